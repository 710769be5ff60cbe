/* The one TEST line every guest test program prints for a check:
 * `TEST TAG.NAME: ok` or `TEST TAG.NAME: FAIL why`, flushed at once (qemu/suite
 * reads them from the console). Included by vtest.c, sbx.c and hostile.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* $VTEST_TAG (set per service in the configs), else `fallback`. */
static inline const char *guest_tag(const char *fallback)
{
    const char *t = getenv("VTEST_TAG");
    return t && *t ? t : fallback;
}

/* Print the line; 0 when ok, else 1. `fmt` and `ap` say why it failed. */
static inline int report(const char *tag, const char *name, int ok, const char *fmt, va_list ap)
{
    char why[512] = "";
    if (!ok && fmt)
        vsnprintf(why, sizeof why, fmt, ap);
    if (ok)
        printf("TEST %s.%s: ok\n", tag, name);
    else
        printf("TEST %s.%s: FAIL %s\n", tag, name, why);
    fflush(stdout);
    return ok ? 0 : 1;
}
