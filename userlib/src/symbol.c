/* SPDX-License-Identifier: MIT */
/*
 * goro: function names for the goroutine dump. dladdr() names exported
 * functions only; for the rest (static functions, executables built
 * without -rdynamic) the object's own .symtab is searched.
 */
#include "internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *symtab_lookup(const char *file, uintptr_t off,
				 char *buf, size_t size)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	const char *res = NULL;
	struct stat st;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	char *map;
	int i;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return NULL;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return NULL;
	eh = (const Elf64_Ehdr *)map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) >
		    (uint64_t)st.st_size)
		goto out;
	sh = (const Elf64_Shdr *)(map + eh->e_shoff);
	for (i = 0; i < eh->e_shnum && !res; i++) {
		const Elf64_Sym *sym;
		const char *strs;
		size_t k, n;

		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		if (sh[i].sh_offset + sh[i].sh_size > (uint64_t)st.st_size ||
		    sh[sh[i].sh_link].sh_offset +
				    sh[sh[i].sh_link].sh_size >
			    (uint64_t)st.st_size)
			continue;
		sym = (const Elf64_Sym *)(map + sh[i].sh_offset);
		strs = map + sh[sh[i].sh_link].sh_offset;
		n = sh[i].sh_size / sizeof(*sym);
		for (k = 0; k < n; k++) {
			if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC ||
			    sym[k].st_value != off ||
			    sym[k].st_name >= sh[sh[i].sh_link].sh_size)
				continue;
			snprintf(buf, size, "%s", strs + sym[k].st_name);
			res = buf;
			break;
		}
	}
out:
	munmap(map, st.st_size);
	return res;
}

/* Name of the function at fn into buf, or NULL. */
const char *goro__fn_name(void *fn, char *buf, size_t size)
{
	Dl_info di;
	uintptr_t off;

	/* a static executable: dladdr knows nothing, addresses are absolute */
	if (!dladdr(fn, &di) || !di.dli_fname)
		return symtab_lookup("/proc/self/exe", (uintptr_t)fn, buf, size);
	if (di.dli_sname && di.dli_saddr == fn) {
		snprintf(buf, size, "%s", di.dli_sname);
		return buf;
	}
	off = (uintptr_t)fn - (uintptr_t)di.dli_fbase;
	if (symtab_lookup(di.dli_fname, off, buf, size))
		return buf;
	/* non-PIE executables carry absolute addresses */
	return symtab_lookup(di.dli_fname, (uintptr_t)fn, buf, size);
}
