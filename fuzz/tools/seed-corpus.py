#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets (fuzz/corpus/TARGET/).

Run from the repository root: python3 fuzz/tools/seed-corpus.py

Seeds: the repo's policy and config files, the string literals of the
parsers' unit tests and of tests/run.rs (every error kind is tested there),
and hand-written edge cases below. Files are named by content hash, the
hand-written ones by what they are. Existing files are kept.
"""
import hashlib, os, re, struct

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if name is None:
        name = "t-" + hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rust_strings(path, tests_only=True):
    """The plain "..." literals of a Rust file (of its tests module if asked)."""
    src = open(path, encoding="utf-8").read()
    if tests_only and "#[cfg(test)]" in src:
        src = src[src.index("#[cfg(test)]"):]
    out = []
    for m in re.finditer(r'(?<![\w#\'])"((?:[^"\\]|\\.)*)"', src, re.S):
        s = m.group(1)
        s = re.sub(r"\\\n\s*", "", s)  # line continuation
        s = re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda x: chr(int(x.group(1), 16)), s)
        s = re.sub(r"\\x([0-9a-fA-F]{2})", lambda x: chr(int(x.group(1), 16)), s)
        s = (s.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
               .replace('\\"', '"').replace("\\'", "'").replace("\\0", "\0").replace("\\\\", "\\"))
        if len(s) >= 4 and not s.startswith("policy.txt:") and not s.startswith("vigil.conf:"):
            out.append(s)
    return out


def rel(*p):
    return os.path.join(ROOT, *p)


# --- policy ---
write("policy", "default.policy", open(rel("policy", "default.policy"), "rb").read())
for s in rust_strings(rel("src", "policy", "parse.rs")):
    write("policy", None, s)
for s in rust_strings(rel("tests", "run.rs"), tests_only=False):
    if "default" in s or ":" in s:
        write("policy", None, s)

LONG = "read: allow" + " " * 245  # exactly 256 bytes
POLICY_EDGES = {
    "line-256": LONG + "\n",
    "line-257": LONG + " \n",
    "line-256-crlf": LONG + "\r\n",
    "long-then-error": "#" * 300 + "\nbogus: allow\n",
    "unclosed-block": "read: allow\nopenat: notify paths {\n  allow /tmp\n",
    "unclosed-block-no-newline": "openat: notify paths {\n  allow /tmp",
    "nested-block": "openat: notify paths {\n  openat: notify paths {\n    allow /a\n  }\n}\n",
    "stray-close": "}\n}\n",
    "huge-numbers": "read: allow if arg0 == 18446744073709551615 && arg1 >= 0xffffffffffffffff || arg2 & 0o1777777777777777777777 == 0\n"
                    "write: notify return -9223372036854775808\nclose: notify return 9223372036854775807\n"
                    "dup: allow if arg0 == 18446744073709551616\n",
    "all-ops": "default kill\nread: allow if arg0 == 1 && arg1 != 2 && arg2 < 3 && arg3 <= 4 && arg4 > 5 && arg5 >= 6 || arg0 & 0xff00000000 == 0x1200000000 else errno EPERM\n"
               "write: log if arg0 < 0x100000000 else trap\nclose: notify continue if arg0 > 2 else notify errno 4095\n",
    "64bit-halves": "default allow\nread: errno 1 if arg0 == 0x100000001\nwrite: errno 2 if arg1 > 0xffffffff\nclose: errno 3 if arg2 < 0x100000000 || arg2 >= 0xfffffffffffffffe\n",
    "every-error": "default allow\ndefault kill\nfrobnicate: allow\nread: errno ENOPE\nwrite: allow if arg7 == 1\nclose: allow if arg0 == 12abc\n"
                   "@nope: allow\nread write: allow\nread: permit\nread: allow junk\ndecision-log maybe\n"
                   "getppid: notify paths {\n}\nopenat: notify paths {\n    allow relative\n    deny /etc errno 99999\n    otherwise errno EPERM\n    otherwise errno EPERM\n}\n}\n"
                   "close: kill\nmkdir: allow\n" + "x" * 300 + "\n",
    "too-many-errors": "".join("bogus%d: allow\n" % i for i in range(40)),
    "aarch64-legacy": "open: allow\nmkdir?, mkdirat: allow\nstat?: errno ENOENT\n",
    "groups": "default kill\n@basic-io: allow\n@file-system: log\n",
    "many-rules": "default errno EPERM\n" + "".join("%s: allow if arg0 == %d\n" % (n, i) for i, n in enumerate(
        "read write close fstat lseek mmap mprotect munmap brk ioctl pread64 pwrite64 readv writev".split())),
    "paths-all": "default allow\nopenat: notify paths {\n  allow /\n  deny /etc\n  allow /etc/hosts\n  deny /tmp/ errno ENOENT\n  otherwise errno 4095\n}\nmkdirat: notify paths {\n}\n",
    "forced-notify": "default allow\nexecve: kill\nexecveat: errno EPERM\n",
    "empty": "",
    "only-comment": "# nothing\n\n   \t\n",
    "decision-log": "decision-log off\ndecision-log on\ndefault log\n",
    # Accepted, but these prefixes can never match a normalised path: the
    # denies are dead and /secret, /data/private, /etc/shadow are allowed.
    "unnormalized-prefixes": "default allow\nopenat: notify paths {\n    allow /\n    deny /srv/../secret\n"
                             "    deny /data//private errno EPERM\n    deny /etc/./shadow\n}\n",
    "quotes-and-nul": "read: allow \"x\" '\0'\n",
}
for name, s in POLICY_EDGES.items():
    write("policy", name, s)

# --- config ---
write("config", "vigil.conf", open(rel("src", "defaults", "vigil.conf"), "rb").read())
for s in rust_strings(rel("src", "init", "config", "tests.rs"), tests_only=False):
    write("config", None, s)
CONFIG_EDGES = {
    "line-257": "hostname " + "a" * 248 + "\n",
    "unclosed-service": "service a {\n exec /a\n",
    "unclosed-policy": "policy p {\n default allow\n",
    "nested-service": "service a {\n exec /a\nservice b {\n exec /b\n}\n}\n",
    "nested-policy": "service a {\n exec /a\n policy {\n  default allow\n  openat: notify paths {\n   allow /tmp\n  }\n }\n}\n",
    "policy-errors": "policy p {\n frobnicate: allow\n read: errno 0\n}\nservice a {\n exec /a\n policy {\n  openat: notify paths {\n   allow rel\n }\n}\ntest /t\ntest-policy {\n default nope\n}\n",
    "huge-numbers": "grace 99999999999999999999ms\nservice a {\n exec /a\n user 4294967296\n group 18446744073709551616\n rlimit nofile 18446744073709551615 unlimited\n backoff 1ms 4294967295ms\n restart-limit 4294967295 1m\n stop-signal 65\n}\n",
    "every-error": "hostname " + "h" * 70 + "\nlog loud\ngrace 5x\nemergency-shell sh\nmodule rel\nbogus\n}\n\"unterminated\nservice bad/name {\n}\n"
                   "service a {\n exec /a\n exec /b\n required yes\n env NOEQ\n env A=1\n env A=2\n rlimit bogus 1\n rlimit nofile 10 5\n backoff 10s 1s\n stop-signal SIGNOPE\n cwd rel\n stdout rel\n policy missing\n}\n"
                   "service a {\n exec /a\n}\npolicy default {\n}\npolicy p {\n}\npolicy p {\n}\n'x'y\n",
    "too-many-services": "".join("service s%d {\n exec /s\n}\n" % i for i in range(40)),
    "quotes": "service q {\n exec \"/bin/with space\" 'arg two' \"\" ''\n env \"A=b c\"\n}\n",
    "test-policy-inline": "test /bin/t a b\ntest-policy {\n default allow\n getppid: notify return 1\n}\n",
    "empty": "",
}
for name, s in CONFIG_EDGES.items():
    write("config", name, s)

# --- decide ---
# Layout: policy index, flags (bit 0 hand-over, bits 1-2 how to pick nr),
# u16 nr selector, six u64 args, u8 small-buffer size, then target memory:
# NUL-separated paths.
def decide(pick, flags, nr, args, small, paths):
    a = list(args) + [0] * (6 - len(args))
    return (struct.pack("<BBH6QB", pick, flags, nr, *a, small) + b"\0".join(paths))

PATHS = [b"/tmp/x", b"/tmp/../etc/passwd", b"//tmp///a/./b/", b"/../../x", b"relative/../y",
         b"/etc/hosts", b"/etc/hostsx", b"/tmp/secret", b"/tmp/secret/", b"/tmp/a/b/c/d/e",
         b"/var/lib/app/locked/ok/..", b"/run/", b"/.", b"/..", b"", b"/usr/local/secret/x",
         b"\xff/\xfe", b"/" + b"a" * 5000, b"/a/" + b"../" * 50 + b"b"]
for i in range(12):
    for f in (0, 1, 2, 4, 6):
        write("decide", "p%d-f%d" % (i, f), decide(i, f, i * 7, [0, 1, 4096, 0x100000000, 2**64 - 1, 1025], 8,
                                                   PATHS[(i + f) % len(PATHS):][:4]))
write("decide", "all-paths", decide(3, 0, 1, [], 3, PATHS))
write("decide", "derived-prefixes", decide(2, 0, 0, [], 1, [b"\x01/tmp", b"\x00/tmp/", b"\x03/tmp/a", b"/tmp/a/b", b"/tmp"]))
write("decide", "empty", b"")
