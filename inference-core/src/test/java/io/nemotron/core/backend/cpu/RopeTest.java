package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.RopeScaling;
import io.nemotron.core.testing.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class RopeTest {

    @Test
    void llama3InverseFrequenciesMatchTheHuggingFaceSnapshot() throws Exception {
        Path file = Reference.path("rope/hf_llama3_rope_snapshot.json");
        assertTrue(Files.exists(file), "reference data missing: " + file.toAbsolutePath());
        JsonNode root = JsonMapper.builder().build().readTree(file.toFile());
        JsonNode p = root.get("params");
        RopeScaling scaling = new RopeScaling(p.get("factor").asDouble(), p.get("low_freq_factor").asDouble(),
                p.get("high_freq_factor").asDouble(), p.get("original_max_position_embeddings").asInt());
        int headDim = p.get("head_dim").asInt();
        float[] got = new Rope(headDim, p.get("rope_theta").asDouble(), scaling, 16).inverseFrequencies();
        JsonNode expected = root.get("expected_inv_freq");
        assertEquals(expected.size(), got.length);
        for (int i = 0; i < got.length; i++) {
            double exp = expected.get(i).asDouble();
            // SOURCE.md: torch.testing.assert_close float32 defaults
            assertEquals(exp, got[i], 1e-5 + 1.3e-6 * Math.abs(exp), "inv_freq[" + i + "]");
        }
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesDividesLowOnesAndBlendsBetween() {
        // Llama-3.1 production values: theta 500000, factor 8, low 1, high 4, original 8192.
        RopeScaling scaling = new RopeScaling(8, 1, 4, 8192);
        float[] plain = new Rope(128, 500000, null, 1).inverseFrequencies();
        float[] scaled = new Rope(128, 500000, scaling, 1).inverseFrequencies();
        for (int i = 0; i < plain.length; i++) {
            double wavelen = 2 * Math.PI / plain[i];
            if (wavelen < 8192 / 4.0) {
                assertEquals(plain[i], scaled[i], 0.0, "high frequency " + i + " kept");
            } else if (wavelen > 8192 / 1.0) {
                assertEquals(plain[i] / 8.0, scaled[i], Math.ulp(scaled[i]), "low frequency " + i + " divided");
            } else {
                double smooth = (8192 / wavelen - 1) / (4 - 1);
                double blended = (1 - smooth) * plain[i] / 8 + smooth * plain[i];
                assertEquals(blended, scaled[i], Math.ulp(scaled[i]), "medium frequency " + i + " blended");
                assertTrue(scaled[i] < plain[i] && scaled[i] > plain[i] / 8);
            }
        }
    }

    @Test
    void plainInverseFrequenciesAreThetaToTheMinusTwoIOverD() {
        float[] inv = new Rope(64, 10000, null, 1).inverseFrequencies();
        for (int i = 0; i < inv.length; i++) {
            double exact = Math.pow(10000, -2.0 * i / 64);
            assertEquals(exact, inv[i], 2 * Math.ulp((float) exact), "inv_freq[" + i + "]");
        }
    }

    @Test
    void rotatesEachHeadsHalvesByThePositionAngleAcrossPageBoundaries() {
        int headDim = 64, heads = 3, max = 3 * Rope.PAGE + 5;
        Rope rope = new Rope(headDim, 10000, new RopeScaling(8, 1, 4, 128), max);
        float[] inv = rope.inverseFrequencies();
        for (int pos : new int[] {0, 1, Rope.PAGE - 1, Rope.PAGE, 2 * Rope.PAGE + 17, max - 1}) {
            float[] x = TestTensors.gaussian(5 + heads * headDim, pos);
            float[] original = x.clone();
            rope.apply(x, 5, heads, pos);
            for (int i = 0; i < 5; i++) {
                assertEquals(original[i], x[i], 0.0, "prefix untouched");
            }
            for (int h = 0; h < heads; h++) {
                int base = 5 + h * headDim;
                for (int i = 0; i < headDim / 2; i++) {
                    double angle = (double) pos * inv[i];
                    double x0 = original[base + i], x1 = original[base + headDim / 2 + i];
                    double y0 = x0 * Math.cos(angle) - x1 * Math.sin(angle);
                    double y1 = x1 * Math.cos(angle) + x0 * Math.sin(angle);
                    // float angle rounding (as in HF) grows with pos: ~pos * 2^-24 rad
                    double tol = 1e-5 + 4 * pos * 0x1p-24 * (Math.abs(x0) + Math.abs(x1));
                    assertEquals(y0, x[base + i], tol, "pos " + pos + " head " + h + " i " + i);
                    assertEquals(y1, x[base + headDim / 2 + i], tol, "pos " + pos + " head " + h + " i+half " + i);
                }
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> rope.apply(new float[headDim], 0, 1, max));
        assertThrows(IllegalArgumentException.class, () -> new Rope(63, 10000, null, 8));
    }
}
