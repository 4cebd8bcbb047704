# Sourced. Sets, unless already set:
#   VM_KDIR  the Debian cloud-amd64 headers matching the test box kernel
#   KDIR     the headers goro.ko builds against for this machine: the
#            running kernel's build tree when it exists, else VM_KDIR
if [ -z "${VM_KDIR:-}" ]; then
	VM_KDIR=$(ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "${KDIR:-}" ]; then
	if [ -d "/lib/modules/$(uname -r)/build" ]; then
		KDIR=/lib/modules/$(uname -r)/build
	else
		KDIR=$VM_KDIR
	fi
fi
export KDIR VM_KDIR
