// Issue 18, must-show 2: the npm `openai` package (5.x) against the server's OpenAI-compatible API.
// Usage: node openai-stream-chat.mjs BASE_URL API_KEY REQUEST_JSON
// Streams one chat completion with usage and prints one JSON line: the content, the finish reason, the usage and
// the number of chunks, for NodeOpenAiIT to compare with the gRPC Chat RPC's answer to the same request.
import OpenAI from 'openai';

const [baseURL, apiKey, requestJson] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
const request = JSON.parse(requestJson);

let content = '';
let finishReason = null;
let usage = null;
let chunks = 0;
const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
for await (const chunk of stream) {
  chunks++;
  for (const choice of chunk.choices) {
    if (choice.delta?.content) content += choice.delta.content;
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  if (chunk.usage) usage = chunk.usage;
}
console.log(JSON.stringify({ content, finish_reason: finishReason, usage, chunks }));
