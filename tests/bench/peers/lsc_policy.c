/* The realistic policy compiled by libseccomp, for comparison with vigil's
 * compiler. Rules file (written by the bench), one rule per line:
 *     NAME [argN:OP:VALUE[:MASK]]...
 * OP: eq ne lt le gt ge meq (masked: arg & MASK == VALUE). Conditions on
 * one line are ANDed; several lines for one syscall are ORed. Everything
 * listed is allowed; the default is errno EPERM.
 *
 *   lsc_policy export RULES OUT      write the raw BPF program to OUT
 *   lsc_policy exec RULES PROG ARGS  load the filter and exec PROG */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what, int rc) {
    fprintf(stderr, "lsc_policy: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
    exit(1);
}

static enum scmp_compare op_of(const char *s) {
    static const struct { const char *n; enum scmp_compare op; } ops[] = {
        {"eq", SCMP_CMP_EQ}, {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT},
        {"le", SCMP_CMP_LE}, {"gt", SCMP_CMP_GT}, {"ge", SCMP_CMP_GE},
        {"meq", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(s, ops[i].n)) return ops[i].op;
    fprintf(stderr, "lsc_policy: bad op %s\n", s);
    exit(2);
}

static scmp_filter_ctx build(const char *rules) {
    FILE *f = fopen(rules, "r");
    if (!f) die(rules, errno);
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) die("seccomp_init", ENOMEM);
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc) die("SCMP_FLTATR_CTL_OPTIMIZE", rc);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *save, *name = strtok_r(line, " \t\n", &save);
        if (!name || name[0] == '#') continue;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
            fprintf(stderr, "lsc_policy: unknown syscall %s\n", name);
            exit(2);
        }
        struct scmp_arg_cmp cmp[6];
        unsigned n = 0;
        for (char *c; (c = strtok_r(NULL, " \t\n", &save)) && n < 6;) {
            unsigned arg;
            char op[8];
            unsigned long long v, m = 0;
            int k = sscanf(c, "arg%u:%7[a-z]:%lli:%lli", &arg, op, &v, &m);
            if (k < 3) {
                fprintf(stderr, "lsc_policy: bad condition %s\n", c);
                exit(2);
            }
            enum scmp_compare o = op_of(op);
            /* libseccomp: datum_a is the mask for MASKED_EQ. */
            if (o == SCMP_CMP_MASKED_EQ)
                cmp[n++] = (struct scmp_arg_cmp){arg, o, m, v};
            else
                cmp[n++] = (struct scmp_arg_cmp){arg, o, v, 0};
        }
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
        if (rc) die(name, rc);
    }
    fclose(f);
    return ctx;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "export")) {
        scmp_filter_ctx ctx = build(argv[2]);
        int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die(argv[3], errno);
        int rc = seccomp_export_bpf(ctx, fd);
        if (rc) die("seccomp_export_bpf", rc);
        return close(fd) ? 1 : 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "exec")) {
        scmp_filter_ctx ctx = build(argv[2]);
        int rc = seccomp_load(ctx);
        if (rc) die("seccomp_load", rc);
        execv(argv[3], argv + 3);
        die("execv", errno);
    }
    fprintf(stderr, "usage: lsc_policy export RULES OUT | exec RULES PROG ARGS...\n");
    return 2;
}
