# The architecture a Makefile builds for, named one way everywhere:
# HOSTARCH, the machine's, and ARCH (default HOSTARCH; aarch64, x86 and
# amd64 are taken as arm64 and x86_64). Included by userlib/, selftests/,
# tools/ and bench/, which decide for themselves what a cross build
# (ARCH != HOSTARCH) changes. scripts/box-arch.sh is the test box's side.
HOSTARCH := $(shell uname -m | sed 's/aarch64/arm64/')
ARCH ?= $(HOSTARCH)
ifeq ($(ARCH),aarch64)
override ARCH := arm64
endif
ifneq ($(filter x86 amd64,$(ARCH)),)
override ARCH := x86_64
endif
