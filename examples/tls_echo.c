/* SPDX-License-Identifier: MIT */
/*
 * tls_echo: a TLS echo server and its clients on OpenSSL, one goroutine a
 * connection. Every socket is non-blocking; when SSL_accept, SSL_connect,
 * SSL_read, SSL_write or SSL_shutdown says SSL_ERROR_WANT_READ or
 * SSL_ERROR_WANT_WRITE the goroutine parks in goro_fd_wait until the
 * socket is ready (its thread runs other goroutines meanwhile) and calls
 * again. The server's certificate is self-signed and made in memory at
 * start (an EC P-256 key, CN=localhost): no files. The clients trust
 * exactly that certificate and check the host name, then send messages of
 * growing sizes, read each back and compare.
 *
 * OpenSSL keeps its error queue per thread, and a goroutine may resume on
 * another thread after goro_fd_wait: so the queue is cleared before each
 * SSL call and read by SSL_get_error right after it, with no goro_ call
 * in between (goro.h, "Thread-local storage").
 *
 *     ./tls_echo [clients] [messages]     (default 16 clients, 20 each)
 *
 * Prints a summary and exits 0 when every byte came back intact.
 */
#include <goro.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXMSG 16384

static SSL_CTX *server_ctx, *client_ctx;
static struct sockaddr_in addr;
static int nmsg = 20;
static goro_wg clients = GORO_WG_INIT, servers = GORO_WG_INIT;
static atomic_long echoed, verified, failed;
static const char *version = "?", *cipher = "?";	/* client 0's */

static void fail(const char *what)
{
	fprintf(stderr, "tls_echo: %s\n", what);
	ERR_print_errors_fp(stderr);
	atomic_fetch_add(&failed, 1);
}

/*
 * After an SSL call returned r <= 0: park until the socket is ready for
 * what OpenSSL wants and return 1 (call again), else 0 (a real end).
 */
static int ssl_wait(SSL *ssl, int fd, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return goro_fd_wait(fd, GORO_FD_READ, 0, NULL) > 0;
	case SSL_ERROR_WANT_WRITE:
		return goro_fd_wait(fd, GORO_FD_WRITE, 0, NULL) > 0;
	default:
		return 0;
	}
}

/* the SSL calls, each retried until it is done; as theirs: > 0 is done */
static int tls_handshake(SSL *ssl, int fd, bool server)
{
	int r;

	do {
		ERR_clear_error();
		r = server ? SSL_accept(ssl) : SSL_connect(ssl);
	} while (r <= 0 && ssl_wait(ssl, fd, r));
	return r;
}

static int tls_read(SSL *ssl, int fd, void *buf, int n)
{
	int r;

	do {
		ERR_clear_error();
		r = SSL_read(ssl, buf, n);
	} while (r <= 0 && ssl_wait(ssl, fd, r));
	return r;
}

/* SSL_write writes all n bytes (no SSL_MODE_ENABLE_PARTIAL_WRITE) */
static int tls_write(SSL *ssl, int fd, const void *buf, int n)
{
	int r;

	do {
		ERR_clear_error();
		r = SSL_write(ssl, buf, n);
	} while (r <= 0 && ssl_wait(ssl, fd, r));
	return r;
}

/* send our close_notify; the client waits for the server's too */
static void tls_close(SSL *ssl, int fd, bool wait_peer)
{
	int r;

	do {
		ERR_clear_error();
		r = SSL_shutdown(ssl);
	} while ((r < 0 && ssl_wait(ssl, fd, r)) || (r == 0 && wait_peer));
}

/* one goroutine a connection: echo until the client's close_notify */
static void serve(void *arg)
{
	int fd = (int)(intptr_t)arg, n;
	SSL *ssl = SSL_new(server_ctx);
	char *buf = malloc(MAXMSG);

	if (!ssl || !buf || !SSL_set_fd(ssl, fd)) {
		fail("server: SSL_new");
		goto out;
	}
	if (tls_handshake(ssl, fd, true) <= 0) {
		fail("server: handshake");
		goto out;
	}
	while ((n = tls_read(ssl, fd, buf, MAXMSG)) > 0) {
		if (tls_write(ssl, fd, buf, n) != n) {
			fail("server: write");
			goto out;
		}
		atomic_fetch_add(&echoed, n);
	}
	if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN)
		fail("server: read");
	else
		tls_close(ssl, fd, false);
out:
	SSL_free(ssl);
	free(buf);
	goro_close(fd);
	goro_wg_done(&servers);
}

static void acceptor(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd;

	while ((fd = goro_accept(lfd, NULL, NULL)) >= 0) {
		/* SSL reads and writes the socket itself: it must not block */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		goro_wg_add(&servers, 1);
		goro_go(serve, (void *)(intptr_t)fd);
	}
	/* -EBADF: main closed the listener */
}

static void client(void *arg)
{
	long id = (long)arg;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char *out = malloc(MAXMSG), *in = malloc(MAXMSG);
	SSL *ssl = SSL_new(client_ctx);
	int i, len, got, r;

	if (fd < 0 || !out || !in || !ssl || !SSL_set_fd(ssl, fd) ||
	    !SSL_set1_host(ssl, "localhost") ||
	    !SSL_set_tlsext_host_name(ssl, "localhost")) {
		fail("client: setup");
		goto out;
	}
	if (goro_connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fail("client: connect");
		goto out;
	}
	if (tls_handshake(ssl, fd, false) <= 0) {
		fail("client: handshake (certificate not verified?)");
		goto out;
	}
	if (id == 0) {
		version = SSL_get_version(ssl);
		cipher = SSL_get_cipher_name(ssl);
	}
	for (i = 0; i < nmsg; i++) {
		/* 1 byte up to MAXMSG, a pattern of this client and message */
		len = 1 + (int)((i * 7919L + id * 104729L) % MAXMSG);
		for (int k = 0; k < len; k++)
			out[k] = (char)(id * 31 + i * 7 + k);
		if (tls_write(ssl, fd, out, len) != len) {
			fail("client: write");
			goto out;
		}
		/* records may come back split: read until all of it is in */
		for (got = 0; got < len; got += r) {
			r = tls_read(ssl, fd, in + got, len - got);
			if (r <= 0) {
				fail("client: read");
				goto out;
			}
		}
		if (memcmp(in, out, len)) {
			fail("client: echo differs");
			goto out;
		}
		atomic_fetch_add(&verified, len);
	}
	tls_close(ssl, fd, true);
out:
	SSL_free(ssl);
	free(out);
	free(in);
	if (fd >= 0)
		goro_close(fd);
	goro_wg_done(&clients);
}

/* a self-signed certificate for CN=localhost, in memory */
static int make_cert(EVP_PKEY **pkey, X509 **cert)
{
	X509_NAME *name;

	*pkey = EVP_EC_gen("P-256");
	*cert = X509_new();
	if (!*pkey || !*cert)
		return -1;
	X509_set_version(*cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 24 * 3600);
	X509_set_pubkey(*cert, *pkey);
	name = X509_get_subject_name(*cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1,
				   0);
	X509_set_issuer_name(*cert, name);
	return X509_sign(*cert, *pkey, EVP_sha256()) > 0 ? 0 : -1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	long nclients = argc > 1 ? atol(argv[1]) : 16;
	socklen_t alen = sizeof(addr);
	EVP_PKEY *pkey;
	X509 *cert;
	double t0;
	int lfd;
	long i;

	if (argc > 2)
		nmsg = atoi(argv[2]);
	if (nclients < 1 || nmsg < 1) {
		fprintf(stderr, "usage: tls_echo [clients] [messages]\n");
		return 2;
	}
	server_ctx = SSL_CTX_new(TLS_server_method());
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (!server_ctx || !client_ctx || make_cert(&pkey, &cert) ||
	    !SSL_CTX_use_certificate(server_ctx, cert) ||
	    !SSL_CTX_use_PrivateKey(server_ctx, pkey) ||
	    !X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx), cert)) {
		fail("setting up the contexts");
		return 1;
	}
	SSL_CTX_set_min_proto_version(server_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen)) {
		perror("tls_echo: listen");
		return 1;
	}
	goro_go(acceptor, (void *)(intptr_t)lfd);

	t0 = now_ms();
	goro_wg_add(&clients, nclients);
	for (i = 0; i < nclients; i++)
		goro_go(client, (void *)i);
	goro_wg_wait(&clients);
	goro_wg_wait(&servers);
	goro_close(lfd);

	printf("tls_echo: %ld clients, %d messages each, %ld bytes echoed "
	       "and verified (%s, %s), %ld errors, in %.0f ms\n",
	       nclients, nmsg, atomic_load(&verified), version, cipher,
	       atomic_load(&failed), now_ms() - t0);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	return atomic_load(&failed) || atomic_load(&verified) !=
		atomic_load(&echoed) ? 1 : 0;
}
