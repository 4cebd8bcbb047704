/* SPDX-License-Identifier: MIT */
/*
 * A one-file FUSE file system for the tests, served over raw /dev/fuse by
 * a thread of its own (no libfuse). fusefile_start() mounts a directory
 * holding one read-only regular file, ff->path, with fixed contents. The
 * server holds every READ until fusefile_release(): until then a read(2)
 * of the file blocks in the kernel, on a local file. Root only (mount(2)).
 */
#ifndef GORO_TEST_FUSEFILE_H
#define GORO_TEST_FUSEFILE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define FUSEFILE_INO 2		/* the file's node id; the root's is 1 */
#define FUSEFILE_TTL 60		/* seconds the kernel may cache names, attrs */

struct fusefile {
	const char *name;	/* the file's name in the mounted directory */
	const char *data;	/* its contents */
	size_t len;
	char dir[32];		/* the mount point */
	char path[64];		/* dir/name */
	int fd;			/* /dev/fuse, valid if have_fd */
	pthread_t server;
	atomic_int read_waiting;	/* a READ waits for the release */
	atomic_int answer_reads;	/* set by fusefile_release() */
	atomic_int stop;
	bool made_dir, have_fd, mounted, serving;
};

/* Answers request @unique with error @err (0 or -errno) and @len bytes. */
static inline void fusefile_reply(struct fusefile *ff, uint64_t unique,
				  int err, const void *p, size_t len)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh) + len, .error = err, .unique = unique,
	};
	struct iovec iov[2] = {{&oh, sizeof(oh)}, {(void *)p, len}};

	/* fails only if the request is gone (aborted): nothing to do */
	writev(ff->fd, iov, len ? 2 : 1);
}

static inline void fusefile_attr(struct fusefile *ff, uint64_t ino,
				 struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = ino == FUSE_ROOT_ID ? 2 : 1;
	a->mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0444;
	a->size = ino == FUSE_ROOT_ID ? 0 : ff->len;
	a->blksize = 4096;
}

/* One request, read whole from /dev/fuse into @buf. */
static inline void fusefile_handle(struct fusefile *ff, void *buf)
{
	struct fuse_in_header *ih = buf;
	void *in = ih + 1;
	union {
		struct fuse_init_out init;
		struct fuse_entry_out entry;
		struct fuse_attr_out attr;
		struct fuse_open_out open;
	} out;
	struct fuse_read_in *rd = in;
	uint64_t id = ih->unique;

	memset(&out, 0, sizeof(out));
	switch (ih->opcode) {
	case FUSE_INIT:
		out.init.major = FUSE_KERNEL_VERSION;
		out.init.minor = FUSE_KERNEL_MINOR_VERSION;
		out.init.max_write = 4096;
		fusefile_reply(ff, id, 0, &out.init, sizeof(out.init));
		break;
	case FUSE_LOOKUP:
		if (ih->nodeid != FUSE_ROOT_ID || strcmp(in, ff->name)) {
			fusefile_reply(ff, id, -ENOENT, NULL, 0);
			break;
		}
		out.entry.nodeid = FUSEFILE_INO;
		out.entry.entry_valid = FUSEFILE_TTL;
		out.entry.attr_valid = FUSEFILE_TTL;
		fusefile_attr(ff, FUSEFILE_INO, &out.entry.attr);
		fusefile_reply(ff, id, 0, &out.entry, sizeof(out.entry));
		break;
	case FUSE_GETATTR:
		out.attr.attr_valid = FUSEFILE_TTL;
		fusefile_attr(ff, ih->nodeid, &out.attr.attr);
		fusefile_reply(ff, id, 0, &out.attr, sizeof(out.attr));
		break;
	case FUSE_OPEN:
		/* no page cache: each read(2) is a READ for the server */
		out.open.open_flags = FOPEN_DIRECT_IO;
		fusefile_reply(ff, id, 0, &out.open, sizeof(out.open));
		break;
	case FUSE_READ:
		/* the blocking window: the reader waits in the kernel */
		atomic_store(&ff->read_waiting, 1);
		while (!atomic_load(&ff->answer_reads) && !atomic_load(&ff->stop))
			usleep(1000);
		atomic_store(&ff->read_waiting, 0);
		if (rd->offset >= ff->len)
			fusefile_reply(ff, id, 0, NULL, 0);
		else
			fusefile_reply(ff, id, 0, ff->data + rd->offset,
				       ff->len - rd->offset < rd->size ?
				       ff->len - rd->offset : rd->size);
		break;
	case FUSE_FLUSH:
	case FUSE_RELEASE:
		fusefile_reply(ff, id, 0, NULL, 0);
		break;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:	/* may be ignored: the READ gets its answer */
		break;		/* no reply to these */
	default:	/* FUSE's "not implemented": not asked again */
		fusefile_reply(ff, id, -ENOSYS, NULL, 0);
		break;
	}
}

static inline void *fusefile_serve(void *arg)
{
	struct fusefile *ff = arg;
	struct pollfd pfd = {.fd = ff->fd, .events = POLLIN};
	uint64_t buf[FUSE_MIN_READ_BUFFER / 8];
	ssize_t n;

	while (!atomic_load(&ff->stop)) {
		if (poll(&pfd, 1, 10) <= 0)
			continue;	/* checks stop every 10 ms */
		n = read(ff->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < (ssize_t)sizeof(struct fuse_in_header))
			break;		/* ENODEV: the connection is gone */
		fusefile_handle(ff, buf);
	}
	return NULL;
}

/*
 * Mounts the file system on a new directory under /tmp and starts its
 * server. 0, or -errno (-ENOENT: no /dev/fuse, fuse.ko is not loaded);
 * fusefile_stop() undoes what was done either way.
 */
static inline int fusefile_start(struct fusefile *ff, const char *name,
				 const char *data)
{
	char opts[96];

	ff->name = name;
	ff->data = data;
	ff->len = strlen(data);
	snprintf(ff->dir, sizeof(ff->dir), "/tmp/goro-fuse-XXXXXX");
	if (!mkdtemp(ff->dir))
		return -errno;
	ff->made_dir = true;
	snprintf(ff->path, sizeof(ff->path), "%s/%s", ff->dir, name);
	ff->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (ff->fd < 0)
		return -errno;
	ff->have_fd = true;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", ff->fd);
	if (mount("goro-fusefile", ff->dir, "fuse", MS_NOSUID | MS_NODEV,
		  opts))
		return -errno;
	ff->mounted = true;
	/* the kernel's FUSE_INIT waits for the server; it answers it first */
	if (pthread_create(&ff->server, NULL, fusefile_serve, ff))
		return -EAGAIN;
	ff->serving = true;
	return 0;
}

/*
 * From now on the server answers READs: blocked readers go on. True if a
 * reader was blocked in its read(2) of the file, waiting for this.
 */
static inline bool fusefile_release(struct fusefile *ff)
{
	bool waiting = atomic_load(&ff->read_waiting);

	atomic_store(&ff->answer_reads, 1);
	return waiting;
}

/* Unmounts, stops the server, and removes the directory. */
static inline void fusefile_stop(struct fusefile *ff)
{
	if (ff->mounted)
		umount2(ff->dir, MNT_DETACH);
	atomic_store(&ff->stop, 1);
	if (ff->serving)
		pthread_join(ff->server, NULL);
	/* the last /dev/fuse close aborts the connection: no reader hangs */
	if (ff->have_fd)
		close(ff->fd);
	if (ff->made_dir)
		rmdir(ff->dir);
	ff->made_dir = ff->have_fd = ff->mounted = ff->serving = false;
}

#endif
