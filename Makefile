# SPDX-License-Identifier: GPL-2.0
#
# goro: Go's G/M/P scheduler for C programs, with a kernel module.
#
#   make            module + libgoro (static, shared) + tools
#   make check      unit tests (native, ASan+UBSan), then the kernel
#                   selftests in the test box on the kernels of
#                   CHECK_KERNELS (6.1 6.12; KERNEL=NAME for one);
#                   ends "N passed, N failed"
#   make check-arm64   libgoro's unit tests on AArch64 under qemu-user
#                   (cross-built; native and ASan+UBSan), then the arm64
#                   test box (make check-arm64-box: goro.ko cross-built for
#                   Debian's arm64 kernel, its selftests and libgoro's
#                   tests on both backends in qemu-system-aarch64)
#   make check-matrix  the box on every kernel: 6.1 6.1-rt 6.12 latest
#   make check-debug   the box on the debug kernel (KASAN, lockdep,
#                   kmemleak; built once a machine, ~1 h), fuzz and soak
#   make run        build, boot the test box, load goro.ko, run the demo
#   make bench      benchmarks side by side with Go, pthreads, Boost, TBB
#   make fuzz       the kernel interface fuzzer and the chaos tests in the
#                   box (FUZZ_SECS=120 per test)
#   make soak       libgoro's mixed workload in the box (SOAK_SECS=300)
#   make install    libgoro (.a, .so.X.Y.Z and links), goro.h, goro.pc,
#                   gorostat, gorotrace (where it builds), the man pages,
#                   gdb's auto-load script; DESTDIR, PREFIX, BINDIR,
#                   LIBDIR, INCLUDEDIR, MANDIR; make uninstall undoes it
#   make install-module  goro.ko into the running kernel's modules
#   make dkms-install    goro.ko's sources in /usr/src/goro-VERSION, then
#                   dkms add/build/install (not with DESTDIR or NODKMS=1)
#   make deb        Debian packages in build/deb/ (lintian-clean)
#   make check-install   make install into a staging root, the examples
#                   built against it, the man pages, the packages
#   make check-packages  the packages in build-essential Debian 12 and 13 roots:
#                   apt-get install ./*.deb, build, gdb, DKMS, purge
#   make style      checkpatch: --strict on module/ and uapi/, kernel style elsewhere
#
# KDIR=<headers> builds the module for another kernel (default: the running
# kernel's, else the test box's 6.1 headers). The box's kernels come from
# Debian's packages into a cache folder: scripts/kernels.

TOP := $(CURDIR)
# the release: VERSION (X.Y.Z) is the one place it is written
VERSION := $(shell cat $(TOP)/VERSION)
SONAME := libgoro.so.$(firstword $(subst ., ,$(VERSION)))
SOFILE := libgoro.so.$(VERSION)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# gdb looks for <objfile's path>-gdb.py under its auto-load directory
GDBDIR ?= $(DATADIR)/gdb/auto-load
DESTDIR ?=
RESULTS := $(TOP)/build/results
KDIRS = . scripts/kdir.sh &&

all: module userlib tools

deps:
	@scripts/deps

module: deps
	@$(KDIRS) $(MAKE) -C "$$KDIR" M=$(TOP) modules

# the module for a kernel of the test box (KERNEL=NAME, scripts/kernels),
# with BTF: build/vm/NAME/goro.ko
KERNEL ?= 6.1
CHECK_KERNELS ?= 6.1 6.12
MATRIX_KERNELS ?= 6.1 6.1-rt 6.12 latest
vm-module: deps
	@scripts/vm-module $(KERNEL)

userlib: deps
	@$(MAKE) -C userlib

tools:
	@$(MAKE) -C tools

selftests: deps
	@$(MAKE) -C selftests

# --- tests -----------------------------------------------------------------
check: deps
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	@st=0; \
	echo "== userlib: native"; \
	$(MAKE) -s -C userlib check SAN= RESULTS=$(RESULTS)/native || st=1; \
	echo "== userlib: ASan+UBSan"; \
	$(MAKE) -s -C userlib check SAN=asan RESULTS=$(RESULTS)/asan || st=1; \
	echo "== tools"; \
	$(MAKE) -s -C tools check RESULTS=$(RESULTS)/tools || st=1; \
	echo "== install: VERSION, make install/uninstall, man pages"; \
	scripts/run-tests -r $(RESULTS)/install -p install $(CHECK_INSTALL) || st=1; \
	echo "== test box: it reports failures it sees"; \
	scripts/run-tests -r $(RESULTS)/box -p box selftests/vm/selfcheck || st=1; \
	$(MAKE) -s selftests tools || st=1; \
	for k in $(if $(filter command line,$(origin KERNEL)),$(KERNEL),$(CHECK_KERNELS)); do \
		echo "== test box: kernel selftests on $$k"; \
		t0=$$(date +%s); \
		{ scripts/vm-module $$k && \
		selftests/vm/check --kernel $$k --smp 2 --results $(RESULTS)/vm-$$k; } || st=1; \
		echo "# $$k: $$(( $$(date +%s) - t0 )) s"; \
	done; \
	echo "== summary"; \
	scripts/tap-summary $(RESULTS)/native $(RESULTS)/asan $(RESULTS)/tools \
		$(RESULTS)/install $(RESULTS)/box \
		$(RESULTS)/vm-* || st=1; \
	exit $$st

# make install into a staging root and the man pages (in make check), and
# the Debian packages: build, lintian, contents, the examples against them
CHECK_INSTALL := scripts/check-version scripts/check-install scripts/check-man
check-install: deps
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/install-all
	@scripts/run-tests -r $(RESULTS)/install-all -p install $(CHECK_INSTALL) \
		scripts/check-deb; st=$$?; \
	scripts/tap-summary $(RESULTS)/install-all && exit $$st

# the packages in a Debian 12 root (debootstrap, once, in the cache):
# dpkg -i, hello with pkg-config, gdb's script, DKMS against the box's 6.1
# headers, dpkg --purge; not part of make check
check-packages: deps
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/packages
	@scripts/run-tests -t 1800 -r $(RESULTS)/packages -p packages \
		scripts/check-packages; st=$$?; \
	scripts/tap-summary $(RESULTS)/packages && exit $$st

# the box on every kernel of the matrix (each boots once, 2 vCPUs)
check-matrix: deps selftests tools
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/matrix-*
	@st=0; for k in $(MATRIX_KERNELS); do \
		echo "== test box: $$k"; \
		t0=$$(date +%s); \
		{ scripts/vm-module $$k && \
		selftests/vm/check --kernel $$k --smp 2 --results $(RESULTS)/matrix-$$k; } || \
		{ st=1; [ -f $(RESULTS)/matrix-$$k ] || echo "pass 0 fail 1 skip 0" >$(RESULTS)/matrix-$$k; }; \
		echo "# $$k: $$(( $$(date +%s) - t0 )) s"; \
	done; \
	scripts/tap-summary $(RESULTS)/matrix-* || st=1; exit $$st

# the debug kernel: every box test that uses goro.ko (libgoro's tests on
# the kmod backend, not on the user one), the fuzzer and chaos for
# DEBUG_SECS each, the soak for DEBUG_SECS, then kmemleak's scan
# (selftests/vm/init); the big tests take their small sizes
# (GORO_VARIANT=slow); any KASAN, lockdep, DEBUG_OBJECTS, UBSAN, WARN or
# hung-task line fails
DEBUG_SECS ?= 60
check-debug: deps selftests tools
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/debug
	@scripts/kernels fetch debug >/dev/null && scripts/vm-module debug && \
	GORO_VM_WALL=$${GORO_VM_WALL:-5400} selftests/vm/check --kernel debug --smp 2 \
		--timeout $$(( $(DEBUG_SECS) * 10 + 600 )) \
		--env GORO_FUZZ_SECS=$(DEBUG_SECS) --env GORO_CHAOS_SECS=$(DEBUG_SECS) \
		--env GORO_SOAK_SECS=$(DEBUG_SECS) --env GORO_SOAK_BACKEND=kmod \
		--env GORO_EXH_TRIES=200 --env GORO_VARIANT=slow \
		--results $(RESULTS)/debug \
		$$(make -s -C selftests list | tr ' ' '\n' | grep -v -- '-user\.sh$$'); st=$$?; \
	scripts/tap-summary $(RESULTS)/debug && exit $$st

# libgoro on AArch64 under qemu-user (user backend only: no /dev/goro
# there): cross-built with aarch64-linux-gnu-gcc, tests run by QEMU 10's
# qemu-aarch64 (scripts/kernels qemu-user; bookworm's 7.2 from
# scripts/deps if that fetch fails, where ASan takes seconds per fork and
# registry's GREGISTER-on-/dev/null test fails: 7.2 answers ENOSYS to an
# ioctl it cannot translate, without passing it on)
# with the target's libc from QEMU_LD_PREFIX; natively, then with
# ASan+UBSan (LeakSanitizer off: it stops the world with ptrace, which
# qemu-user does not emulate).
check-arm64: deps
	@rm -rf $(RESULTS)/arm64 && mkdir -p $(RESULTS)/arm64
	@t0=$$(date +%s); st=0; \
	q=$$(scripts/kernels qemu-user) || q=qemu-aarch64; \
	echo "== userlib on arm64 ($$q): native"; \
	$(MAKE) -s -C userlib check ARCH=arm64 SAN= QEMU_AARCH64=$$q \
		RESULTS=$(RESULTS)/arm64/native || st=1; \
	echo "== userlib on arm64 ($$q): ASan+UBSan"; \
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=0} \
	$(MAKE) -s -C userlib check ARCH=arm64 SAN=asan QEMU_AARCH64=$$q \
		RESULTS=$(RESULTS)/arm64/asan || st=1; \
	echo "# arm64: $$(( $$(date +%s) - t0 )) s"; \
	$(MAKE) -s check-arm64-box ARM64_SUMMARY=0 || st=1; \
	echo "== summary"; \
	scripts/tap-summary $(RESULTS)/arm64/native $(RESULTS)/arm64/asan \
		$(RESULTS)/arm64/box || st=1; \
	exit $$st

# The arm64 test box alone: goro.ko cross-built against Debian 12's
# arm64 cloud headers with the host's kbuild (scripts/kernels 6.1-arm64),
# the selftests, gorostat and libgoro's static tests cross-built
# (ARCH=arm64), all booted in QEMU 10's qemu-system-aarch64 (TCG, virt,
# -cpu max); a kernel splat fails the run as in the x86 box.
# The whole box takes 15-20 minutes there (TCG emulating arm64 on the 2
# CPUs): cgroup's exhaustion test makes 200 attempts, not 1000, as in the
# debug box.
ARM64_KERNEL ?= 6.1-arm64
ARM64_SUMMARY ?= 1
ARM64_EXH_TRIES ?= 200
check-arm64-box: deps
	@mkdir -p $(RESULTS)/arm64 && rm -f $(RESULTS)/arm64/box
	@t0=$$(date +%s); \
	echo "== arm64 test box: kernel selftests on $(ARM64_KERNEL)"; \
	{ scripts/vm-module $(ARM64_KERNEL) && \
	$(MAKE) -s -C selftests ARCH=arm64 && $(MAKE) -s -C tools ARCH=arm64 && \
	selftests/vm/check --kernel $(ARM64_KERNEL) --smp 2 \
		--env GORO_EXH_TRIES=$(ARM64_EXH_TRIES) \
		--results $(RESULTS)/arm64/box; }; st=$$?; \
	[ -f $(RESULTS)/arm64/box ] || echo "pass 0 fail 1 skip 0" >$(RESULTS)/arm64/box; \
	echo "# $(ARM64_KERNEL): $$(( $$(date +%s) - t0 )) s"; \
	if [ "$(ARM64_SUMMARY)" = 1 ]; then \
		scripts/tap-summary $(RESULTS)/arm64/box || st=1; fi; \
	exit $$st

# TSan is slow: its own target
check-tsan: deps
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/tsan
	@$(MAKE) -s -C userlib check SAN=tsan RESULTS=$(RESULTS)/tsan; st=$$?; \
	scripts/tap-summary $(RESULTS)/tsan && exit $$st

# the kernel selftests only, in the box (SMP=4 for a second pass)
SMP ?= 2
check-vm: deps vm-module selftests tools
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/vm$(SMP)
	@selftests/vm/check --kernel $(KERNEL) --smp $(SMP) --results $(RESULTS)/vm$(SMP); st=$$?; \
	scripts/tap-summary $(RESULTS)/vm$(SMP) && exit $$st

# the fuzzer and the chaos tests alone, FUZZ_SECS seconds per test (three
# fuzz tests, eight timed chaos scenarios in one binary per family)
FUZZ_SECS ?= 120
CHAOS_BINS := $(patsubst %.c,build/%,$(sort $(wildcard selftests/chaos/*.c)))
fuzz: deps vm-module selftests tools
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/fuzz
	@GORO_VM_WALL=$$(( $(FUZZ_SECS) * 14 + 600 )) \
	selftests/vm/check --kernel $(KERNEL) --smp 4 --timeout $$(( $(FUZZ_SECS) * 10 + 120 )) \
		--env GORO_FUZZ_SECS=$(FUZZ_SECS) \
		--env GORO_CHAOS_SECS=$(FUZZ_SECS) --results $(RESULTS)/fuzz \
		build/selftests/fuzz/fuzz $(CHAOS_BINS); st=$$?; \
	scripts/tap-summary $(RESULTS)/fuzz && exit $$st

# the soak alone: SOAK_SECS of libgoro's mixed workload in the box, with
# /proc readers and gorotrace attached
SOAK_SECS ?= 300
soak: deps vm-module selftests tools
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/soak
	@GORO_VM_WALL=$$(( $(SOAK_SECS) * 2 + 600 )) \
	selftests/vm/check --kernel $(KERNEL) --smp 4 --timeout $$(( $(SOAK_SECS) * 2 + 120 )) \
		--env GORO_SOAK_SECS=$(SOAK_SECS) --env GORO_SOAK_BACKEND=kmod \
		--results $(RESULTS)/soak \
		build/selftests/soak/soak.sh; st=$$?; \
	scripts/tap-summary $(RESULTS)/soak && exit $$st

# --- the demo --------------------------------------------------------------
# not echo: in the box's /bin it would shadow busybox's echo
include examples/libs.mk
DEMO_BINS := $(addprefix build/demo/,$(call ex_buildable,$(filter-out echo,\
	$(basename $(notdir $(wildcard examples/*.c))))))

build/demo/%: examples/%.c userlib/build/libgoro.a userlib/include/goro.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iuserlib/include -static \
		-pthread -o $@ $< userlib/build/libgoro.a $(EXLIBS_STATIC_$*)

run: deps vm-module userlib
	@$(MAKE) -s $(DEMO_BINS)
	@selftests/vm/run --kernel $(KERNEL) --live --smp 2 --script selftests/vm/demo.sh $(DEMO_BINS)

bench: deps userlib
	@$(MAKE) -C bench run

# --- Debian packages ---------------------------------------------------------
# libgoro1, libgoro-dev, goro-dkms, goro-tools (+ -dbgsym) in build/deb/,
# from debian/ by dpkg-buildpackage in a copy of the tree; lintian-clean
deb: deps
	@scripts/deb

# --- install ---------------------------------------------------------------
# make install: libgoro (static, shared: libgoro.so.X.Y.Z, its soname link
# and the dev link), libgoro_instrument.a, goro.h, goro.pc, gorostat and
# gorotrace (when it builds: clang, bpftool, libbpf), the man pages, gdb's
# auto-load script for libgoro.so.X.Y.Z. DESTDIR stages; make uninstall
# removes the same files. Neither calls scripts/deps.
install: install-lib install-tools install-man

build/goro.pc: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' "prefix=$(PREFIX)" "libdir=$(LIBDIR)" \
		"includedir=$(INCLUDEDIR)" "" "Name: goro" \
		"Description: goroutines for C: Go's G/M/P scheduler" \
		"Version: $(VERSION)" "Libs: -L\$${libdir} -lgoro -pthread" \
		"Libs.private: -ldl" "Cflags: -I\$${includedir} -pthread" >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

install-lib: build/goro.pc
	@$(MAKE) -s -C userlib all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(GDBDIR)$(LIBDIR)
	install -m 644 userlib/build/libgoro.a $(DESTDIR)$(LIBDIR)/
	install -m 644 userlib/build/libgoro_instrument.a $(DESTDIR)$(LIBDIR)/
	install -m 644 userlib/build/$(SOFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libgoro.so
	install -m 644 userlib/include/goro.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 build/goro.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 tools/gdb/goro.py $(DESTDIR)$(GDBDIR)$(LIBDIR)/$(SOFILE)-gdb.py

# gorotrace only where it builds
install-tools:
	@mkdir -p build && $(MAKE) -s -C tools bin-gorostat
	@$(MAKE) -s -C tools bin-gorotrace >build/gorotrace.log 2>&1 || \
		echo "install: gorotrace did not build (clang, bpftool, libbpf-dev?): not installed" >&2
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 build/tools/gorostat $(DESTDIR)$(BINDIR)/
	if [ -f build/tools/gorotrace ]; then \
		install -m 755 build/tools/gorotrace $(DESTDIR)$(BINDIR)/; fi

# the pages of a tool only with the tool
install-man:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 644 $(wildcard docs/man/*.3) $(DESTDIR)$(MANDIR)/man3/
	install -m 644 docs/man/goro.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 docs/man/gorostat.1 $(DESTDIR)$(MANDIR)/man1/
	if [ -f build/tools/gorotrace ]; then \
		install -m 644 docs/man/gorotrace.8 $(DESTDIR)$(MANDIR)/man8/; fi

uninstall:
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,libgoro.a libgoro_instrument.a \
		$(SOFILE) $(SONAME) libgoro.so pkgconfig/goro.pc)
	rm -f $(DESTDIR)$(INCLUDEDIR)/goro.h
	rm -f $(DESTDIR)$(GDBDIR)$(LIBDIR)/$(SOFILE)-gdb.py
	rm -f $(DESTDIR)$(BINDIR)/gorostat $(DESTDIR)$(BINDIR)/gorotrace
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(wildcard docs/man/*.3)))
	rm -f $(DESTDIR)$(MANDIR)/man7/goro.7 $(DESTDIR)$(MANDIR)/man1/gorostat.1 \
		$(DESTDIR)$(MANDIR)/man8/gorotrace.8

install-module: module
	@$(KDIRS) $(MAKE) -C "$$KDIR" M=$(TOP) modules_install

# the module's sources for DKMS in $(DKMSSRC), then dkms add, build (for
# the running kernel) and install, unless DESTDIR is set or NODKMS=1
DKMSSRC = /usr/src/goro-$(VERSION)
NODKMS ?=
RUNDKMS = [ -z "$(DESTDIR)" ] && [ "$(NODKMS)" != 1 ]
build/dkms.conf: dkms.conf.in VERSION
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/g' dkms.conf.in >$@

dkms-install: build/dkms.conf
	install -d $(DESTDIR)$(DKMSSRC)/module $(DESTDIR)$(DKMSSRC)/uapi
	install -m 644 Kbuild VERSION $(DESTDIR)$(DKMSSRC)/
	install -m 644 module/Kbuild $(filter-out %.mod.c,$(wildcard module/*.[ch])) \
		$(DESTDIR)$(DKMSSRC)/module/
	install -m 644 $(wildcard uapi/*.h) $(DESTDIR)$(DKMSSRC)/uapi/
	install -m 644 build/dkms.conf $(DESTDIR)$(DKMSSRC)/
	if $(RUNDKMS); then dkms add goro/$(VERSION) && \
		dkms build goro/$(VERSION) && dkms install goro/$(VERSION); fi

dkms-uninstall:
	if $(RUNDKMS) && dkms status goro/$(VERSION) | grep -q .; then \
		dkms remove goro/$(VERSION) --all; fi
	rm -rf $(DESTDIR)$(DKMSSRC)

# --- style -----------------------------------------------------------------
style: deps
	@scripts/style

clean:
	@$(KDIRS) $(MAKE) -C "$$KDIR" M=$(TOP) clean
	@$(MAKE) -C userlib clean
	@$(MAKE) -C selftests clean
	@$(MAKE) -C tools clean
	@if [ -f bench/Makefile ]; then $(MAKE) -C bench clean; fi
	rm -rf build

.PHONY: all deps module vm-module userlib tools selftests check check-tsan check-arm64 \
	check-arm64-box \
	check-matrix check-debug check-vm check-install check-packages fuzz soak run bench deb \
	install install-lib \
	install-tools install-man uninstall install-module dkms-install \
	dkms-uninstall style clean FORCE
FORCE:
