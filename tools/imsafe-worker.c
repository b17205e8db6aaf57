/*
 * imsafe-worker - the helper program of libimsafe's isolation mode
 * (policy isolation = process; see libimsafe(3)).  A pool in the host
 * starts it with its channel on descriptor 3; it locks itself down and
 * judges what the host sends (libimsafe/worker.c).  It is not meant to be
 * run by hand, and takes no arguments.
 *
 * It is linked with libimsafe's objects (the static library), so that the
 * code judging a payload in the worker is the host's own.
 */
#include "imsafe_private.h"

int main(void)
{
    imsafe__worker_main(3, NULL);
}
