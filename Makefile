# SPDX-License-Identifier: GPL-2.0
#
# goro: Go's G/M/P scheduler for C programs, with a kernel module.
#
#   make            module + libgoro (static, shared) + tools
#   make check      unit tests (native, ASan+UBSan), then the kernel
#                   selftests in the test box; ends "N passed, N failed"
#   make run        build, boot the test box, load goro.ko, run the demo
#   make bench      benchmarks side by side with Go, pthreads, Boost, TBB
#   make fuzz       the kernel interface fuzzer and the chaos tests in the
#                   box (FUZZ_SECS=120 per test)
#   make soak       libgoro's mixed workload in the box (SOAK_SECS=300)
#   make install    libgoro, goro.h, goro.pc, the module (modules_install)
#   make style      checkpatch: --strict on module/ and uapi/, kernel style elsewhere
#
# KDIR=<headers> builds the module for another kernel (default: the running
# kernel's, else Debian's cloud-amd64 headers, which the test box boots).

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=
TOP := $(CURDIR)
RESULTS := $(TOP)/build/results
KDIRS = . scripts/kdir.sh &&

all: module userlib tools

deps:
	@scripts/deps

module: deps
	@$(KDIRS) $(MAKE) -C "$$KDIR" M=$(TOP) modules

# the test box boots Debian's cloud kernel: build the module for it
# (with BTF, which the headers package alone cannot give: scripts/module-btf)
vm-module: deps
	@$(KDIRS) $(MAKE) -C "$$VM_KDIR" M=$(TOP) modules
	@scripts/module-btf module/goro.ko build/vm/goro.ko

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
	echo "== test box: it reports failures it sees"; \
	scripts/run-tests -r $(RESULTS)/box -p box selftests/vm/selfcheck || st=1; \
	echo "== test box: kernel selftests"; \
	$(MAKE) -s vm-module selftests tools && \
	selftests/vm/check --smp 2 --results $(RESULTS)/vm || st=1; \
	echo "== summary"; \
	scripts/tap-summary $(RESULTS)/native $(RESULTS)/asan $(RESULTS)/tools \
		$(RESULTS)/box \
		$(RESULTS)/vm || st=1; \
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
	@selftests/vm/check --smp $(SMP) --results $(RESULTS)/vm$(SMP); st=$$?; \
	scripts/tap-summary $(RESULTS)/vm$(SMP) && exit $$st

# the fuzzer and the chaos tests alone, FUZZ_SECS seconds per test (three
# fuzz tests, eight timed chaos scenarios in one binary per family)
FUZZ_SECS ?= 120
CHAOS_BINS := $(patsubst %.c,build/%,$(sort $(wildcard selftests/chaos/*.c)))
fuzz: deps vm-module selftests tools
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/fuzz
	@GORO_VM_WALL=$$(( $(FUZZ_SECS) * 14 + 600 )) \
	selftests/vm/check --smp 4 --timeout $$(( $(FUZZ_SECS) * 10 + 120 )) \
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
	selftests/vm/check --smp 4 --timeout $$(( $(SOAK_SECS) * 2 + 120 )) \
		--env GORO_SOAK_SECS=$(SOAK_SECS) --env GORO_SOAK_BACKEND=kmod \
		--results $(RESULTS)/soak \
		build/selftests/soak/soak.sh; st=$$?; \
	scripts/tap-summary $(RESULTS)/soak && exit $$st

# --- the demo --------------------------------------------------------------
# not echo: in the box's /bin it would shadow busybox's echo
DEMO_BINS := $(patsubst examples/%.c,build/demo/%,\
	$(filter-out examples/echo.c,$(wildcard examples/*.c)))

build/demo/%: examples/%.c userlib/build/libgoro.a userlib/include/goro.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iuserlib/include -static \
		-pthread -o $@ $< userlib/build/libgoro.a

run: deps vm-module userlib
	@$(MAKE) -s $(DEMO_BINS)
	@selftests/vm/run --live --smp 2 --script selftests/vm/demo.sh $(DEMO_BINS)

bench: deps userlib
	@$(MAKE) -C bench run

# --- install ---------------------------------------------------------------
goro.pc: Makefile
	@printf '%s\n' "prefix=$(PREFIX)" "libdir=$(LIBDIR)" \
		"includedir=$(INCLUDEDIR)" "" "Name: goro" \
		"Description: goroutines for C: Go's G/M/P scheduler" \
		"Version: 1.0" "Libs: -L\$${libdir} -lgoro -pthread" \
		"Cflags: -I\$${includedir} -pthread" >$@

install: userlib goro.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 644 userlib/build/libgoro.a $(DESTDIR)$(LIBDIR)/
	install -m 644 userlib/build/libgoro_instrument.a $(DESTDIR)$(LIBDIR)/
	install -m 755 userlib/build/libgoro.so.1 $(DESTDIR)$(LIBDIR)/
	ln -sf libgoro.so.1 $(DESTDIR)$(LIBDIR)/libgoro.so
	install -m 644 userlib/include/goro.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 goro.pc $(DESTDIR)$(LIBDIR)/pkgconfig/

install-module: module
	@$(KDIRS) $(MAKE) -C "$$KDIR" M=$(TOP) modules_install

# --- style -----------------------------------------------------------------
style: deps
	@scripts/style

clean:
	@$(KDIRS) $(MAKE) -C "$$KDIR" M=$(TOP) clean
	@$(MAKE) -C userlib clean
	@$(MAKE) -C selftests clean
	@$(MAKE) -C tools clean
	@if [ -f bench/Makefile ]; then $(MAKE) -C bench clean; fi
	rm -rf build goro.pc

.PHONY: all deps module vm-module userlib tools selftests check check-tsan \
	check-vm fuzz soak run bench install install-module style clean
