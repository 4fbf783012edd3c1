package io.sparkmm.kernels;

/** Element-wise activations, named as Hugging Face configs name them ({@code hidden_act}). */
public enum Activation {
    /** x * sigmoid(x). */
    SILU,
    /** 0.5 x (1 + erf(x / sqrt 2)): HF "gelu". */
    GELU_ERF,
    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): HF "gelu_new", "gelu_pytorch_tanh". */
    GELU_TANH,
    /** x * sigmoid(1.702 x): HF "quick_gelu" (CLIP). */
    QUICK_GELU;

    /** Maps a {@code hidden_act} string; throws naming the value when unknown. */
    public static Activation fromHf(String name) {
        return switch (name) {
            case "silu", "swish" -> SILU;
            case "gelu" -> GELU_ERF;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            case "quick_gelu" -> QUICK_GELU;
            default -> throw new IllegalArgumentException("unsupported activation '" + name
                    + "' (supported: silu, gelu, gelu_new, gelu_pytorch_tanh, quick_gelu)");
        };
    }
}
