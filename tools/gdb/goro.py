# SPDX-License-Identifier: MIT
"""gdb commands for programs using libgoro.

    source tools/gdb/goro.py        (or: gdb -x tools/gdb/goro.py)

    info goroutines                 every live goroutine: id, state, wait
                                    reason, entry function, name
    goroutine N CMD...              run CMD (bt, info frame, ...) with the
                                    registers of goroutine N, which must be
                                    parked or runnable (not running on an M)

The goroutines are found through the registry libgoro publishes
(goro__greg, a list of struct goro_ginfo embedded in each struct goro_g);
the program needs libgoro's debug information. A goroutine that is not
running has its callee-saved registers on its stack at g->sp, in the
layout of goro__ctx_swap (switch_x86_64.S):
    +0 MXCSR, x87 CW   +8 r15  +16 r14  +24 r13  +32 r12  +40 rbx
    +48 rbp   +56 return address    (rsp after the return: sp + 64)
"""

import gdb

G_STATES = ["idle", "runnable", "running", "waiting", "syscall", "dead"]
G_RUNNING = 2
G_SYSCALL = 4
SAVED = [("r15", 8), ("r14", 16), ("r13", 24), ("r12", 32), ("rbx", 40),
         ("rbp", 48)]
MAX_GOROUTINES = 1000000


def _greg():
    try:
        return gdb.parse_and_eval("goro__greg")
    except gdb.error:
        raise gdb.GdbError("no goroutine registry (goro__greg): is the "
                           "program linked with libgoro, with debug info?")


def _gi_offset():
    gtype = gdb.lookup_type("struct goro_g")
    for f in gtype.fields():
        if f.name == "gi":
            return f.bitpos // 8
    raise gdb.GdbError("struct goro_g has no gi field")


def goroutines():
    """Yield every live struct goro_g on the registry's list (a dead entry
    is a recently ended goroutine's slot, kept for the next one)."""
    greg = _greg()
    gptr = gdb.lookup_type("struct goro_g").pointer()
    off = _gi_offset()
    addr = int(greg["first"])
    seen = 0
    while addr and seen < MAX_GOROUTINES:
        g = gdb.Value(addr - off).cast(gptr).dereference()
        if int(g["gi"]["state"]) != G_STATES.index("dead"):
            yield g
        addr = int(g["gi"]["next"])
        seen += 1


def _c_string(ptr):
    if int(ptr) == 0:
        return None
    try:
        return ptr.string(errors="replace")
    except gdb.error:
        return "?"


def _symbol(pc):
    if pc == 0:
        return "-"
    try:
        block = gdb.block_for_pc(pc)
        while block is not None and block.function is None:
            block = block.superblock
        if block is not None:
            return block.function.print_name
    except RuntimeError:
        pass
    return "0x%x" % pc


def _name(g):
    raw = bytes(int(g["gi"]["name"][i]) & 0xff for i in range(32))
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


def _find(gid):
    for g in goroutines():
        if int(g["id"]) == gid:
            return g
    raise gdb.GdbError("no goroutine %d" % gid)


class InfoGoroutines(gdb.Command):
    """List every goroutine: id, state, wait reason, entry, name."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        out = ["  %-6s %-9s %-24s %-24s %s" %
               ("Id", "State", "Wait reason", "Entry", "Name")]
        for g in goroutines():
            st = int(g["status"])
            state = G_STATES[st] if st < len(G_STATES) else str(st)
            why = _c_string(g["waitreason"]) or "-"
            if int(g["id"]) == 1:
                entry = "main"
            else:
                entry = _symbol(int(g["fn"]))
            out.append("  %-6d %-9s %-24s %-24s %s" %
                       (int(g["id"]), state, why, entry, _name(g)))
        gdb.write("\n".join(out) + "\n")


class Goroutine(gdb.Command):
    """goroutine N CMD: run CMD with the saved registers of goroutine N."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        args = arg.split(None, 1)
        if len(args) < 2 or not args[0].isdigit():
            raise gdb.GdbError("usage: goroutine N CMD (e.g. goroutine 5 bt)")
        g = _find(int(args[0]))
        st = int(g["status"])
        if st in (G_RUNNING, G_SYSCALL):
            raise gdb.GdbError("goroutine %s is running on an M: select its "
                               "thread instead" % args[0])
        sp = int(g["sp"])
        if sp == 0:
            raise gdb.GdbError("goroutine %s has no saved context" % args[0])
        u64 = gdb.lookup_type("unsigned long").pointer()

        def word(off):
            return int(gdb.Value(sp + off).cast(u64).dereference())

        new = dict((r, word(o)) for r, o in SAVED)
        new["rip"] = word(56)
        new["rsp"] = sp + 64
        gdb.execute("select-frame 0", to_string=True)
        frame = gdb.selected_frame()
        old = dict((r, int(frame.read_register(r))) for r in new)
        try:
            for r, v in new.items():
                gdb.execute("set $%s = %d" % (r, v), to_string=True)
            gdb.execute(args[1], from_tty)
        finally:
            gdb.execute("select-frame 0", to_string=True)
            for r, v in old.items():
                gdb.execute("set $%s = %d" % (r, v), to_string=True)


InfoGoroutines()
Goroutine()
