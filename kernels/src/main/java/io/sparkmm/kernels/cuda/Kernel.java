package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cuda.CudaApi.KernelArg;

import java.util.List;

/**
 * The kernels of the ABI header {@code kernels/src/main/cuda/sparkmm_kernels.h}: each one's
 * extern "C" name and the kinds of its parameters in order, so a launch with a wrong argument
 * list fails in Java with the kernel's name instead of reading garbage on the device. A CPU test
 * parses the header and checks this table against it.
 */
public enum Kernel {
    MATMUL("sparkmm_matmul", P.PTR, P.PTR, P.I32, P.PTR, P.PTR, P.I32, P.I32, P.I32),
    RMS_NORM("sparkmm_rms_norm", P.PTR, P.PTR, P.I32, P.F32, P.PTR, P.I32, P.I32),
    LAYER_NORM("sparkmm_layer_norm", P.PTR, P.PTR, P.PTR, P.I32, P.F32, P.PTR, P.I32, P.I32),
    ROPE("sparkmm_rope", P.PTR, P.PTR, P.PTR, P.PTR, P.I32, P.I32, P.I32, P.F32),
    SILU_MUL("sparkmm_silu_mul", P.PTR, P.PTR, P.PTR, P.I64),
    ACTIVATION("sparkmm_activation", P.PTR, P.PTR, P.I64, P.I32),
    SOFTMAX("sparkmm_softmax", P.PTR, P.PTR, P.I32, P.I32),
    EMBEDDING("sparkmm_embedding", P.PTR, P.I32, P.PTR, P.PTR, P.I32, P.I32),
    ADD("sparkmm_add", P.PTR, P.PTR, P.PTR, P.I64),
    TO_F32("sparkmm_to_f32", P.PTR, P.I32, P.PTR, P.I64),
    ATTENTION("sparkmm_attention", P.PTR, P.PTR, P.PTR, P.PTR, P.I32, P.I32, P.I32, P.I32, P.F32, P.I32),
    KV_WRITE("sparkmm_kv_write", P.PTR, P.PTR, P.PTR, P.PTR, P.I32, P.PTR, P.I32, P.I32, P.I32),
    PAGED_ATTENTION("sparkmm_paged_attention", P.PTR, P.PTR, P.PTR, P.PTR, P.I32, P.PTR, P.PTR, P.PTR, P.PTR,
            P.I32, P.I32, P.I32, P.I32, P.I32, P.I32, P.F32),
    ARGMAX("sparkmm_argmax", P.PTR, P.PTR, P.I32, P.I32);

    /** The C kind of a kernel parameter: any pointer, int, int64_t or float. */
    public enum P {
        PTR, I32, I64, F32;

        static P of(KernelArg arg) {
            if (arg instanceof KernelArg.Ptr) {
                return PTR;
            } else if (arg instanceof KernelArg.I32) {
                return I32;
            } else if (arg instanceof KernelArg.I64) {
                return I64;
            }
            return F32;
        }
    }

    private final String symbol;
    private final List<P> params;

    Kernel(String symbol, P... params) {
        this.symbol = symbol;
        this.params = List.of(params);
    }

    /** The extern "C" name in the fatbin. */
    public String symbol() {
        return symbol;
    }

    public List<P> params() {
        return params;
    }

    /** Throws naming the kernel and the position when {@code args} do not match the parameters. */
    void check(List<KernelArg> args) {
        if (args.size() != params.size()) {
            throw new IllegalArgumentException(symbol + " takes " + params.size() + " arguments, got " + args.size());
        }
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i) == null || P.of(args.get(i)) != params.get(i)) {
                throw new IllegalArgumentException(symbol + " argument " + i + " must be " + params.get(i)
                        + ", got " + args.get(i));
            }
        }
    }

    /**
     * The header's dtype code: 0 F32, 1 BF16, 2 F16. Mapped by name, not by {@link DType#ordinal()}:
     * the Java enum is ordered F32, F16, BF16.
     */
    public static int dtypeCode(DType dtype) {
        return switch (dtype) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
        };
    }

    /** The header's activation code: 0 silu, 1 gelu (erf), 2 gelu (tanh), 3 quick_gelu. */
    public static int activationCode(Activation act) {
        return switch (act) {
            case SILU -> 0;
            case GELU_ERF -> 1;
            case GELU_TANH -> 2;
            case QUICK_GELU -> 3;
        };
    }
}
