/* SPDX-License-Identifier: MIT */
/*
 * libgoro: name resolution. goro_getaddrinfo resolves localhost and
 * numeric hosts and services, returns getaddrinfo's EAI_* codes as
 * GORO_EAI_ERR (never as an -errno), and a lookup that waits on a slow
 * DNS server leaves the only P to the other goroutines; under a context
 * it returns at the deadline and leaves the lookup behind.
 *
 * The slow server: as root, each test runs in a private mount namespace
 * with a tmpfs over /etc holding its own hosts, nsswitch.conf and
 * resolv.conf ("options timeout:1 attempts:1"), whose nameserver is a
 * UDP thread of the test on a random 127.x.y.z:53 that answers late or
 * never. Without root those tests skip and the others use the system's
 * /etc.
 */
#include <goro.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/*
 * Make /etc private to this process (the test's child): a tmpfs with a
 * hosts file, "hosts: files dns" and a resolv.conf naming ns. Must run
 * before the runtime starts a thread (unshare of the mount namespace
 * needs a process that shares its file system state with no thread).
 * 0, or -1 when not root or the kernel refuses (the caller skips).
 */
static int private_etc(const char *ns)
{
	char conf[256];

	if (getuid() != 0)
		return -1;
	if (unshare(CLONE_NEWNS))
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	mkdir("/etc", 0755);
	if (mount("goro-etc", "/etc", "tmpfs", 0, "mode=0755"))
		return -1;
	snprintf(conf, sizeof(conf),
		 "nameserver %s\noptions timeout:1 attempts:1\n", ns);
	if (write_file("/etc/hosts", "127.0.0.1 localhost\n"
					"::1 localhost ip6-localhost\n") ||
	    write_file("/etc/nsswitch.conf", "hosts: files dns\n") ||
	    write_file("/etc/resolv.conf", conf))
		return -1;
	return 0;
}

/* ---- a DNS server on a thread of the test ---- */

struct dns {
	int fd;
	int stop[2];
	int64_t delay_ms;	/* < 0: never answer */
	atomic_int queries;
	char addr[32];
	pthread_t thr;
};

static void *dns_serve(void *arg)
{
	struct dns *d = arg;
	unsigned char q[512], r[600];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;

	for (;;) {
		struct pollfd p[2] = {{d->fd, POLLIN, 0},
				      {d->stop[0], POLLIN, 0}};

		if (poll(p, 2, -1) < 0 || p[1].revents)
			return NULL;
		fl = sizeof(from);
		n = recvfrom(d->fd, q, sizeof(q), 0, (struct sockaddr *)&from,
			     &fl);
		if (n < 12)
			continue;
		atomic_fetch_add(&d->queries, 1);
		if (d->delay_ms < 0)
			continue;
		if (poll(&p[1], 1, (int)d->delay_ms) != 0)
			return NULL;
		/* the question back, and one A record 10.1.2.3 for it */
		memcpy(r, q, n);
		r[2] = 0x81;	/* QR, RD */
		r[3] = 0x80;	/* RA, NOERROR */
		r[6] = 0;
		r[7] = 1;	/* ANCOUNT 1 */
		r[8] = r[9] = r[10] = r[11] = 0;
		memcpy(r + n, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
			      "\x0a\x01\x02\x03", 16);
		sendto(d->fd, r, n + 16, 0, (struct sockaddr *)&from, fl);
	}
}

/* bind a UDP socket on a free 127.x.y.z:53; 0 or -1 */
static int dns_bind(struct dns *d)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	unsigned int seed = getpid() ^ (unsigned int)now_ns();
	int i;

	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -1;
	for (i = 0; i < 20; i++) {
		snprintf(d->addr, sizeof(d->addr), "127.%d.%d.%d",
			 1 + rand_r(&seed) % 250, rand_r(&seed) % 256,
			 1 + rand_r(&seed) % 250);
		inet_pton(AF_INET, d->addr, &sa.sin_addr);
		if (bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
	}
	return -1;
}

static void dns_start(struct dns *d)
{
	if (pipe(d->stop) || pthread_create(&d->thr, NULL, dns_serve, d))
		abort();
}

static void dns_stop(struct dns *d)
{
	if (write(d->stop[1], "x", 1) != 1)
		abort();
	pthread_join(d->thr, NULL);
	close(d->fd);
}

/* ---- a goroutine that must keep ticking ---- */

struct ticker {
	atomic_int stop;
	atomic_long ticks;
	atomic_llong maxgap;
	goro_wg wg;
};

static void tick(void *arg)
{
	struct ticker *t = arg;
	long long last = now_ns(), now;

	while (!atomic_load(&t->stop)) {
		goro_sleep(10 * MS);
		now = now_ns();
		if (now - last > atomic_load(&t->maxgap))
			atomic_store(&t->maxgap, now - last);
		last = now;
		atomic_fetch_add(&t->ticks, 1);
	}
	goro_wg_done(&t->wg);
}

static void ticker_start(struct ticker *t)
{
	memset(t, 0, sizeof(*t));
	goro_wg_add(&t->wg, 1);
	goro_go(tick, t);
	goro_sleep(30 * MS);	/* it runs */
}

static void ticker_stop(struct ticker *t)
{
	atomic_store(&t->stop, 1);
	goro_wg_wait(&t->wg);
}

static const struct addrinfo inet_hints = {.ai_family = AF_INET,
					   .ai_socktype = SOCK_STREAM};

static const char *addr_of(struct addrinfo *ai, char *buf, size_t size)
{
	void *a = ai->ai_family == AF_INET ?
		(void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		(void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

	return inet_ntop(ai->ai_family, a, buf, size);
}

static int port_of(struct addrinfo *ai)
{
	return ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port);
}

/* ---- the plain calls ---- */

TEST(localhost_resolves)
{
	struct addrinfo *ai = NULL;
	char buf[64];

	private_etc("127.0.0.1");	/* when root; else the system's */
	ASSERT_EQ(0, goro_getaddrinfo("localhost", "80", &inet_hints, &ai));
	ASSERT_NE(NULL, ai);
	ASSERT_EQ(AF_INET, ai->ai_family);
	ASSERT_STREQ("127.0.0.1", addr_of(ai, buf, sizeof(buf)));
	ASSERT_EQ(80, port_of(ai));
	freeaddrinfo(ai);
	/* the same under a context (the lookup's own goroutine) */
	ai = NULL;
	ASSERT_EQ(0, goro_getaddrinfo_ctx("localhost", "443", &inet_hints, &ai,
					  NULL));
	ASSERT_EQ(443, port_of(ai));
	freeaddrinfo(ai);
}

TEST(numeric_hosts_and_services_resolve)
{
	struct addrinfo h = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
			     .ai_socktype = SOCK_DGRAM};
	goro_ctx *ctx = goro_ctx_make(NULL);
	struct addrinfo *ai = NULL;
	char buf[64];

	ASSERT_EQ(0, goro_getaddrinfo("192.0.2.7", "8080", &h, &ai));
	ASSERT_EQ(AF_INET, ai->ai_family);
	ASSERT_EQ(SOCK_DGRAM, ai->ai_socktype);
	ASSERT_STREQ("192.0.2.7", addr_of(ai, buf, sizeof(buf)));
	ASSERT_EQ(8080, port_of(ai));
	freeaddrinfo(ai);
	ASSERT_EQ(0, goro_getaddrinfo_ctx("2001:db8::1", "53", &h, &ai, ctx));
	ASSERT_EQ(AF_INET6, ai->ai_family);
	ASSERT_STREQ("2001:db8::1", addr_of(ai, buf, sizeof(buf)));
	ASSERT_EQ(53, ntohs(((struct sockaddr_in6 *)ai->ai_addr)->sin6_port));
	freeaddrinfo(ai);
	/* a service alone: the passive wildcard address */
	h.ai_flags |= AI_PASSIVE;
	h.ai_family = AF_INET;
	ASSERT_EQ(0, goro_getaddrinfo(NULL, "9", &h, &ai));
	ASSERT_STREQ("0.0.0.0", addr_of(ai, buf, sizeof(buf)));
	ASSERT_EQ(9, port_of(ai));
	freeaddrinfo(ai);
	goro_ctx_free(ctx);
}

TEST(eai_codes_come_back_below_every_errno)
{
	struct addrinfo h = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = (struct addrinfo *)&h;
	goro_ctx *ctx = goro_ctx_make(NULL);
	int r;

	/* not a numeric host */
	r = goro_getaddrinfo("999.1.2.3", "80", &h, &ai);
	ASSERT_EQ(GORO_EAI_ERR(EAI_NONAME), r);
	ASSERT_LT(r, -4095);
	ASSERT_EQ(EAI_NONAME, GORO_EAI(r));
	ASSERT_NE(NULL, strstr(gai_strerror(GORO_EAI(r)), "not known"));
	ASSERT_EQ(NULL, ai);
	/* not a numeric service; the same under a context */
	r = goro_getaddrinfo_ctx("127.0.0.1", "http", &h, &ai, ctx);
	ASSERT_EQ(EAI_NONAME, GORO_EAI(r));
	ASSERT_EQ(NULL, ai);
	/* a family getaddrinfo does not know */
	h.ai_family = 12345;
	r = goro_getaddrinfo("127.0.0.1", "80", &h, &ai);
	ASSERT_EQ(EAI_FAMILY, GORO_EAI(r));
	/* flags it does not know */
	h.ai_family = AF_UNSPEC;
	h.ai_flags = 0x40000000;
	r = goro_getaddrinfo("127.0.0.1", "80", &h, &ai);
	ASSERT_EQ(EAI_BADFLAGS, GORO_EAI(r));
	/* -errno values are not EAI codes */
	ASSERT_EQ(0, GORO_EAI(-EINVAL));
	ASSERT_EQ(0, GORO_EAI(-4095));
	ASSERT_EQ(0, GORO_EAI(0));
	ASSERT_EQ(-EINVAL, goro_getaddrinfo("localhost", "80", NULL, NULL));
	ASSERT_EQ(-EINVAL, goro_getaddrinfo(NULL, NULL, NULL, &ai));
	/* a cancelled context: its err, before any lookup */
	goro_ctx_cancel(ctx);
	ASSERT_EQ(-ECANCELED, goro_getaddrinfo_ctx("localhost", "80", NULL,
						   &ai, ctx));
	ASSERT_EQ(NULL, ai);
	goro_ctx_free(ctx);
}

struct many {
	goro_wg wg;
	atomic_int ok;
};

static void resolve_one(void *arg)
{
	struct many *m = arg;
	struct addrinfo *ai = NULL;
	int r = goro_id() % 2 ?
		goro_getaddrinfo("localhost", "7", &inet_hints, &ai) :
		goro_getaddrinfo_ctx("127.0.0.1", "7", &inet_hints, &ai, NULL);

	if (r == 0 && ai && port_of(ai) == 7)
		atomic_fetch_add(&m->ok, 1);
	if (ai)
		freeaddrinfo(ai);
	goro_wg_done(&m->wg);
}

TEST(many_goroutines_resolve_at_once)
{
	struct many m = {GORO_WG_INIT, 0};
	int i, n = sanitized() ? 20 : 200;

	private_etc("127.0.0.1");
	goro_setprocs(2);
	goro_wg_add(&m.wg, n);
	for (i = 0; i < n; i++)
		ASSERT_LT(0, goro_go(resolve_one, &m));
	goro_wg_wait(&m.wg);
	ASSERT_EQ(n, atomic_load(&m.ok));
}

/* ---- a slow DNS server ---- */

FIXTURE(slowdns) {
	struct dns dns;
	struct ticker tk;
};

FIXTURE_SETUP(slowdns)
{
	memset(&self->dns, 0, sizeof(self->dns));
	if (dns_bind(&self->dns) || private_etc(self->dns.addr))
		SKIP(return, "needs root, a private mount namespace and "
			     "127.x.y.z:53");
	/* one P: a lookup that held it would stop the ticker */
	goro_setprocs(1);
}

FIXTURE_TEARDOWN(slowdns)
{
}

TEST_F(slowdns, silent_server_does_not_stall_the_only_p)
{
	struct addrinfo *ai = NULL;
	long long t0, dt;
	int r;

	self->dns.delay_ms = -1;
	dns_start(&self->dns);
	ticker_start(&self->tk);
	t0 = now_ns();
	r = goro_getaddrinfo("slow.goro.test", "80", &inet_hints, &ai);
	dt = now_ns() - t0;
	ticker_stop(&self->tk);
	dns_stop(&self->dns);
	/* the resolver's timeout: EAI_AGAIN, not an -errno */
	ASSERT_EQ(GORO_EAI_ERR(EAI_AGAIN), r) TH_LOG("r %d (eai %d)", r,
						      GORO_EAI(r));
	ASSERT_EQ(NULL, ai);
	ASSERT_GE(atomic_load(&self->dns.queries), 1);
	ASSERT_GE(dt, 900 * MS);
	/* ~100 ticks of 10 ms while the lookup waited a second */
	ASSERT_GE(atomic_load(&self->tk.ticks), 20) TH_LOG("waited %lld ms",
							   dt / MS);
	ASSERT_LT(atomic_load(&self->tk.maxgap), 500 * MS);
}

TEST_F(slowdns, slow_answer_arrives_while_others_run)
{
	struct addrinfo *ai = NULL;
	long long t0, dt;
	char buf[64];

	self->dns.delay_ms = 300;
	dns_start(&self->dns);
	ticker_start(&self->tk);
	t0 = now_ns();
	ASSERT_EQ(0, goro_getaddrinfo("slow.goro.test", "25", &inet_hints,
				      &ai));
	dt = now_ns() - t0;
	ticker_stop(&self->tk);
	dns_stop(&self->dns);
	ASSERT_STREQ("10.1.2.3", addr_of(ai, buf, sizeof(buf)));
	ASSERT_EQ(25, port_of(ai));
	freeaddrinfo(ai);
	ASSERT_GE(dt, 300 * MS);
	ASSERT_GE(atomic_load(&self->tk.ticks), 8);
	ASSERT_LT(atomic_load(&self->tk.maxgap), 250 * MS);
}

TEST_F(slowdns, deadline_cuts_the_wait_and_leaves_the_lookup)
{
	struct addrinfo *ai = NULL;
	int64_t base = goro_numgoroutine();
	goro_ctx *ctx;
	long long t0, dt;
	int i;

	self->dns.delay_ms = -1;
	dns_start(&self->dns);
	ticker_start(&self->tk);
	t0 = now_ns();
	ctx = goro_ctx_make_timeout(NULL, 200 * MS);
	ASSERT_EQ(-ETIMEDOUT, goro_getaddrinfo_ctx("slow.goro.test", "80",
						   &inet_hints, &ai, ctx));
	dt = now_ns() - t0;
	ASSERT_EQ(NULL, ai);
	ASSERT_GE(dt, 200 * MS);
	/* at the deadline, not at the resolver's one-second timeout */
	ASSERT_LT(dt, 800 * MS);
	goro_ctx_free(ctx);
	/* the lookup left behind ends by itself and frees its result */
	for (i = 0; i < 300 && goro_numgoroutine() > base + 1; i++)
		goro_sleep(10 * MS);
	ASSERT_EQ(base + 1, goro_numgoroutine());	/* the ticker */
	ticker_stop(&self->tk);
	dns_stop(&self->dns);
	ASSERT_GE(atomic_load(&self->tk.ticks), 20);
}

TEST_HARNESS_MAIN
