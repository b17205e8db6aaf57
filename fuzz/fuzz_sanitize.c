/*
 * fuzz_sanitize.c - the whole imsafe_sanitize() call as a host makes it:
 * the default policy, no claimed name or MIME type.  Every input goes
 * through sniffing, the policy decision and whichever module the type
 * dispatches to (or none).  Properties: see fuzz_common.h.
 *
 * The one change to the defaults is the pixel caps of the fuzz policy
 * (FUZZ_MAX_PIXELS, FUZZ_MAX_TOTAL_FRAME_PIXELS): at the default 60 MP the
 * valid 36 MP fixture rgba_6000_interlaced.png takes over 30 seconds under
 * ASan (sanitize, decode, sanitize again), a timeout that drowns the run
 * without telling anything new.  Every other limit stays at its default.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_ctx *ctx;
    static imsafe_policy *pol;
    if (ctx == NULL) {
        ctx = fuzz_ctx_or_die();
        imsafe_policy *p = imsafe_policy_new();
        fuzz_set(p, IMSAFE_OPT_MAX_PIXELS, FUZZ_MAX_PIXELS);
        fuzz_set(p, IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS, FUZZ_MAX_TOTAL_FRAME_PIXELS);
        pol = fuzz_policy_or_die(p);
    }
    if (size > FUZZ_MAX_INPUT)
        return 0;
    fuzz_sanitize_checked(ctx, pol, data, size, NULL);
    return 0;
}
