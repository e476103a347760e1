"""The inputs parsers have tripped on elsewhere, as constants: the property tests mix them
into what they generate, and test_nasty_inputs.py gives each one to every parser."""

from __future__ import annotations

from typing import Any

#: Strings parsers have tripped on elsewhere: empty, NUL, a lone surrogate (valid in JSON as
#: "\ud800"), path escapes, Windows paths, right-to-left override, long, numeric-looking.
NASTY_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "\ud800",
    "\n\r\t",
    "..",
    "../../../../etc/passwd",
    "/etc/passwd",
    "./",
    "C:\\Windows\\system32",
    "\\\\server\\share",
    "\u202egnp.exe",
    "é",
    "🙂",
    "0",
    "-1",
    "1e999",
    "NaN",
    "null",
    "true",
    "%s%n{0}",
    "${HOME}",
    "a" * 5_000,
    "9" * 5_000 + ".0",
    "x\ny",
    "2026-02-30",
    "9999-12-31",
    "0000-00-00T00:00:00",
    "sha256:" + "0" * 64,
    "0" * 32,
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AV:N",
    "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "pkg/hostile.py\x00",
    "pkg/\ud800.py",
    "x" * 300,
    "pkg/hostile.py",
    "pkg",
    "pkg/folder.py",
)

#: Numbers at the edges: signed 64-bit limits, beyond them, floats that overflow, NaN.
NASTY_NUMBERS: tuple[int | float, ...] = (
    0,
    -1,
    1,
    2**31,
    2**63,
    -(2**63) - 1,
    10**40,
    -(10**40),
    0.5,
    -0.0,
    1e308,
    -1e308,
    5e-324,
    float("inf"),
    float("-inf"),
    float("nan"),
)

#: Nested a little deeper than any real document (too deep for text is in NASTY_BYTES).
_NESTED: Any = "x"
for _depth in range(60):
    _NESTED = [_NESTED] if _depth % 2 else {"a": _NESTED}

NASTY_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    *NASTY_NUMBERS,
    *NASTY_STRINGS,
    [],
    {},
    [None],
    {"": None},
    [[[]]],
    _NESTED,
)

#: Whole documents that are not what anyone expects: empty, NUL, a BOM, invalid UTF-8,
#: JSON's NaN, an integer past Python's 4,300-digit limit, nesting past the stack.
NASTY_BYTES: tuple[bytes, ...] = (
    b"",
    b" ",
    b"\x00",
    b"\xef\xbb\xbf{}",
    b"\xff\xfe\x00{",
    b"\xc3\x28",
    b'{"a": "\xed\xa0\x80"}',
    b"null",
    b"[]",
    b"{}",
    b'""',
    b"NaN",
    b"-Infinity",
    b"1" * 5_000,
    b'{"results": ' + b"9" * 5_000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"results": [' + b"[" * 20_000 + b"]" * 20_000 + b"]}",
    b'{"a": 1, "a": 2}',
    b"\n".join([b"{}"] * 3),
)


#: YAML text that defeats naive loaders: bombs, recursion, tags, deep flows, huge numbers.
NASTY_TEXT: tuple[str, ...] = (
    "",
    "---\n---\n",
    "~",
    "&a [*a]",
    "a: &a {b: *a}",
    "!!python/object/apply:os.system ['true']",
    "a: !!binary AAAA",
    "a: !!timestamp 2026-13-45",
    "a: 2026-02-30",
    "[" * 5_000 + "]" * 5_000,
    "a:\n" + "".join(f"{'  ' * i}- \n" for i in range(300)),
    "x: " + "9" * 5_000,
    "x: 0x" + "f" * 5_000,
    "x: 1_000_000_000_000_000_000_000",
    "x: 1e99999",
    "x: .nan",
    "? [1, 2]\n: a",
    "<<: [1]",
    "a: b\na: c",
    "\ufeffa: 1",
    "a: \x85",
    "lol1: &l1 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(2, 10)),
)
