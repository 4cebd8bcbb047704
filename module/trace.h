/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goro tracepoints: goro:goro_attach, goro_detach, goro_park, goro_wake,
 * goro_handoff, goro_steal, goro_preempt. Every event carries the tgid of
 * the instance's process; M ids are thread ids, P ids the P's number.
 * tools/gorotrace attaches to them with libbpf.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM goro

#if !defined(_GORO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GORO_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(goro_attach,
	TP_PROTO(pid_t tgid, pid_t tid, u32 m, u32 p),
	TP_ARGS(tgid, tid, m, p),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(pid_t, tid)
		__field(u32, m)
		__field(u32, p)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->tid = tid;
		__entry->m = m;
		__entry->p = p;
	),
	TP_printk("tgid=%d tid=%d m=%u p=%d", __entry->tgid, __entry->tid,
		  __entry->m, (int)__entry->p)
);

TRACE_EVENT(goro_detach,
	TP_PROTO(pid_t tgid, pid_t tid, u32 m),
	TP_ARGS(tgid, tid, m),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(pid_t, tid)
		__field(u32, m)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->tid = tid;
		__entry->m = m;
	),
	TP_printk("tgid=%d tid=%d m=%u", __entry->tgid, __entry->tid,
		  __entry->m)
);

/* An M returns from GORO_IOC_PARK: why (GORO_WOKE_*), with P p. */
TRACE_EVENT(goro_park,
	TP_PROTO(pid_t tgid, pid_t tid, u32 p, u32 why, u32 nstolen,
		 u64 parked_ns),
	TP_ARGS(tgid, tid, p, why, nstolen, parked_ns),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(pid_t, tid)
		__field(u32, p)
		__field(u32, why)
		__field(u32, nstolen)
		__field(u32, pad)
		__field(u64, parked_ns)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->tid = tid;
		__entry->p = p;
		__entry->why = why;
		__entry->nstolen = nstolen;
		__entry->pad = 0;
		__entry->parked_ns = parked_ns;
	),
	TP_printk("tgid=%d tid=%d p=%d why=%u nstolen=%u parked_ns=%llu",
		  __entry->tgid, __entry->tid, (int)__entry->p, __entry->why,
		  __entry->nstolen, __entry->parked_ns)
);

/* GORO_IOC_WAKE bound P p to parked M tid. */
TRACE_EVENT(goro_wake,
	TP_PROTO(pid_t tgid, pid_t waker, pid_t tid, u32 p),
	TP_ARGS(tgid, waker, tid, p),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(pid_t, waker)
		__field(pid_t, tid)
		__field(u32, p)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->waker = waker;
		__entry->tid = tid;
		__entry->p = p;
	),
	TP_printk("tgid=%d waker=%d tid=%d p=%u", __entry->tgid,
		  __entry->waker, __entry->tid, __entry->p)
);

/*
 * P p of M from_tid, which blocked in the kernel, runs on M to_tid:
 * latency_ns from the block to to_tid running with it.
 */
TRACE_EVENT(goro_handoff,
	TP_PROTO(pid_t tgid, pid_t from_tid, pid_t to_tid, u32 p,
		 u64 latency_ns),
	TP_ARGS(tgid, from_tid, to_tid, p, latency_ns),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(pid_t, from_tid)
		__field(pid_t, to_tid)
		__field(u32, p)
		__field(u64, latency_ns)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->from_tid = from_tid;
		__entry->to_tid = to_tid;
		__entry->p = p;
		__entry->latency_ns = latency_ns;
	),
	TP_printk("tgid=%d from=%d to=%d p=%u latency_ns=%llu",
		  __entry->tgid, __entry->from_tid, __entry->to_tid,
		  __entry->p, __entry->latency_ns)
);

/* The kernel moved n handles from P victim to P thief (in PARK). */
TRACE_EVENT(goro_steal,
	TP_PROTO(pid_t tgid, pid_t tid, u32 victim, u32 thief, u32 n),
	TP_ARGS(tgid, tid, victim, thief, n),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(pid_t, tid)
		__field(u32, victim)
		__field(u32, thief)
		__field(u32, n)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->tid = tid;
		__entry->victim = victim;
		__entry->thief = thief;
		__entry->n = n;
	),
	TP_printk("tgid=%d tid=%d victim=%u thief=%u n=%u", __entry->tgid,
		  __entry->tid, __entry->victim, __entry->thief, __entry->n)
);

/* The monitor asked P p to yield: its goroutine ran for ran_ns. */
TRACE_EVENT(goro_preempt,
	TP_PROTO(pid_t tgid, u32 p, u64 ran_ns),
	TP_ARGS(tgid, p, ran_ns),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(u32, p)
		__field(u64, ran_ns)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->p = p;
		__entry->ran_ns = ran_ns;
	),
	TP_printk("tgid=%d p=%u ran_ns=%llu", __entry->tgid, __entry->p,
		  __entry->ran_ns)
);

#endif /* _GORO_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
