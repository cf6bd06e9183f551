package io.nemotron.service.toolcall;

import tools.jackson.databind.node.ObjectNode;

/** One call as written inside a block, before it gets an id and validation: a name and its keyword arguments. */
record FunctionCall(String name, ObjectNode arguments) {}
