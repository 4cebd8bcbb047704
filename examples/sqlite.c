/* SPDX-License-Identifier: MIT */
/*
 * sqlite: a blocking C library driven from many goroutines. Each worker
 * goroutine opens its own connection to one database file in WAL mode
 * and inserts rows in small transactions, querying its own count after
 * each; a ticker goroutine measures how long it ever waited. SQLite
 * blocks its thread (file locks, fsync, and the busy handler's sleep
 * while another connection writes), so:
 *   - on the kmod backend the calls are plain: goro.ko hands the P of a
 *     thread blocked in the kernel to another thread by itself;
 *   - on the user backend each call is bracketed by goro_syscall_enter/
 *     goro_syscall_exit (DB() below), so the runtime gives the P away
 *     while SQLite blocks, as goro.h asks for blocking calls.
 * Either way the other goroutines (the ticker included) keep running,
 * even with one P. A connection is only ever used by one goroutine, which
 * may resume on another thread between calls: SQLite allows that (its
 * default threading mode is serialized).
 *
 *     ./sqlite [workers] [transactions] [dir]
 *         (default 16 workers, 25 transactions of 8 rows; the database
 *          goes to a fresh directory under dir, default $TMPDIR or /tmp,
 *          removed at the end)
 *
 * Prints the counts and exits 0 when every row inserted is counted.
 */
#define _GNU_SOURCE
#include <goro.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROWS 8		/* a transaction's rows */

static bool bracket;	/* user backend: give the P up around each call */
static char path[4200];
static int ntx = 25;
static goro_wg wg = GORO_WG_INIT;
static atomic_long inserted, queries, failed;
static atomic_int stop;
static atomic_llong maxgap;

/* a call into SQLite, which may block its thread */
#define DB(expr)                                                               \
	({                                                                     \
		if (bracket)                                                   \
			goro_syscall_enter();                                  \
		__typeof__(expr) r_ = (expr);                                  \
		if (bracket)                                                   \
			goro_syscall_exit();                                   \
		r_;                                                            \
	})

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite: %s: %s\n", what,
		db ? sqlite3_errmsg(db) : "out of memory");
	atomic_fetch_add(&failed, 1);
}

static int exec(sqlite3 *db, const char *sql)
{
	if (DB(sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
		fail(db, sql);
		return -1;
	}
	return 0;
}

static int open_db(sqlite3 **db)
{
	if (DB(sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE |
				 SQLITE_OPEN_CREATE, NULL)) != SQLITE_OK) {
		fail(*db, "open");
		return -1;
	}
	/* a writer waits up to 10 s for another's transaction to end */
	sqlite3_busy_timeout(*db, 10000);
	return 0;
}

static void worker(void *arg)
{
	long id = (long)arg;
	sqlite3_stmt *ins = NULL, *cnt = NULL;
	sqlite3 *db = NULL;
	int t, i;

	if (open_db(&db) ||
	    DB(sqlite3_prepare_v2(db, "INSERT INTO t(worker, seq, payload) "
				  "VALUES (?, ?, ?)", -1, &ins, NULL)) ||
	    DB(sqlite3_prepare_v2(db, "SELECT count(*), sum(seq) FROM t "
				  "WHERE worker = ?", -1, &cnt, NULL))) {
		fail(db, "prepare");
		goto out;
	}
	for (t = 0; t < ntx; t++) {
		if (exec(db, "BEGIN IMMEDIATE"))
			goto out;
		for (i = 0; i < ROWS; i++) {
			sqlite3_bind_int64(ins, 1, id);
			sqlite3_bind_int64(ins, 2, t * ROWS + i);
			sqlite3_bind_text(ins, 3, "goroutine", -1,
					  SQLITE_STATIC);
			if (DB(sqlite3_step(ins)) != SQLITE_DONE) {
				fail(db, "insert");
				goto out;
			}
			sqlite3_reset(ins);
		}
		if (exec(db, "COMMIT"))
			goto out;
		atomic_fetch_add(&inserted, ROWS);
		/* a reader sees its own rows, and every one of them */
		sqlite3_bind_int64(cnt, 1, id);
		if (DB(sqlite3_step(cnt)) != SQLITE_ROW) {
			fail(db, "count");
			goto out;
		}
		long long n = sqlite3_column_int64(cnt, 0);
		long long sum = sqlite3_column_int64(cnt, 1);
		long long m = (t + 1) * ROWS;

		sqlite3_reset(cnt);
		atomic_fetch_add(&queries, 1);
		if (n != m || sum != m * (m - 1) / 2) {
			fprintf(stderr, "sqlite: worker %ld counts %lld rows, "
				"wants %lld\n", id, n, m);
			atomic_fetch_add(&failed, 1);
			goto out;
		}
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(cnt);
	DB(sqlite3_close(db));
	goro_wg_done(&wg);
}

/* a goroutine that must keep running: its longest wait between ticks */
static void ticker(void *arg)
{
	long long last = now_ns(), now;

	while (!atomic_load(&stop)) {
		goro_sleep(5000000);
		now = now_ns();
		if (now - last > atomic_load(&maxgap))
			atomic_store(&maxgap, now - last);
		last = now;
	}
	goro_wg_done(arg);
}

static long long count_all(long long *workers)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	long long n = -1;

	if (open_db(&db))
		return -1;
	if (DB(sqlite3_prepare_v2(db, "SELECT count(*), "
				  "count(DISTINCT worker) FROM t", -1, &st,
				  NULL)) == SQLITE_OK &&
	    DB(sqlite3_step(st)) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		*workers = sqlite3_column_int64(st, 1);
	} else {
		fail(db, "count all");
	}
	sqlite3_finalize(st);
	DB(sqlite3_close(db));
	return n;
}

int main(int argc, char **argv)
{
	long nworkers = argc > 1 ? atol(argv[1]) : 16, i;
	const char *tmp = argc > 3 ? argv[3] : getenv("TMPDIR");
	long long t0, total, workers = 0;
	char dir[4096], side[4300];
	sqlite3 *db = NULL;
	goro_wg tw = GORO_WG_INIT;

	if (argc > 2)
		ntx = atoi(argv[2]);
	if (nworkers < 1 || ntx < 1) {
		fprintf(stderr, "usage: sqlite [workers] [transactions] [dir]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/goro-sqlite.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("sqlite: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/db", dir);
	bracket = strcmp(goro_backend(), "user") == 0;

	/* the schema and WAL mode, once */
	if (open_db(&db) || exec(db, "PRAGMA journal_mode=WAL") ||
	    exec(db, "PRAGMA synchronous=NORMAL") ||
	    exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, worker INTEGER, "
		     "seq INTEGER, payload TEXT)") ||
	    exec(db, "CREATE INDEX t_worker ON t(worker)"))
		return 1;
	DB(sqlite3_close(db));

	t0 = now_ns();
	goro_wg_add(&tw, 1);
	goro_go(ticker, &tw);
	goro_wg_add(&wg, nworkers);
	for (i = 0; i < nworkers; i++)
		goro_go(worker, (void *)i);
	goro_wg_wait(&wg);
	atomic_store(&stop, 1);
	goro_wg_wait(&tw);
	total = count_all(&workers);

	printf("sqlite: %ld goroutines, one connection each, WAL, %s calls "
	       "(%s backend): %ld rows inserted in %ld transactions, %ld "
	       "queries, %lld rows counted from %lld workers, %ld errors, "
	       "in %lld ms; the ticker waited at most %lld ms\n",
	       nworkers, bracket ? "bracketed" : "plain", goro_backend(),
	       atomic_load(&inserted), atomic_load(&inserted) / ROWS,
	       atomic_load(&queries), total, workers, atomic_load(&failed),
	       (now_ns() - t0) / 1000000, atomic_load(&maxgap) / 1000000);

	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	unlink(path);
	rmdir(dir);
	return atomic_load(&failed) || total != nworkers * ntx * ROWS ||
		workers != nworkers ? 1 : 0;
}
