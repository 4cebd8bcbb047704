# Sourced. Sets KDIR, unless already set, to the headers goro.ko builds
# against on this machine: the running kernel's build tree when it exists,
# else the test box's 6.1 headers (scripts/kernels fetch 6.1).
if [ -z "${KDIR:-}" ]; then
	if [ -d "/lib/modules/$(uname -r)/build" ]; then
		KDIR=/lib/modules/$(uname -r)/build
	else
		KDIR=$(scripts/kernels fetch 6.1 | sed -n 's/^KDIR=//p')
	fi
fi
export KDIR
