// SPDX-License-Identifier: GPL-2.0
/*
 * gorotrace: log2 histograms of P handoff latency and M park time, and
 * per-P kernel steal counts, from goro.ko's tracepoints (raw tracepoints:
 * the arguments are the tracepoint's TP_PROTO, which is the module's
 * stable interface; no private module struct is read).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "gorotrace.h"

const volatile __u32 targ_tgid;	/* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct steal_key);
	__type(value, __u64);
} steals SEC(".maps");

static const struct hist zero;

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	while (v > 1 && r < MAX_SLOTS - 1) {
		v >>= 1;
		r++;
	}
	return r;
}

static __always_inline void record(__u32 tgid, __u32 kind, __u64 ns)
{
	struct hist_key key = { .tgid = tgid, .kind = kind };
	struct hist *h;
	__u32 slot;

	if (targ_tgid && tgid != targ_tgid)
		return;
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return;
	}
	slot = log2_u64(ns);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, ns);
	if (ns > h->max_ns)
		h->max_ns = ns;	/* racy max: good enough for a report */
}

/* goro_handoff(tgid, from_tid, to_tid, p, latency_ns) */
SEC("raw_tp/goro_handoff")
int BPF_PROG(handoff, __s32 tgid, __s32 from_tid, __s32 to_tid, __u32 p,
	     __u64 latency_ns)
{
	record(tgid, HIST_HANDOFF, latency_ns);
	return 0;
}

/* goro_park(tgid, tid, p, why, nstolen, parked_ns) */
SEC("raw_tp/goro_park")
int BPF_PROG(park, __s32 tgid, __s32 tid, __u32 p, __u32 why, __u32 nstolen,
	     __u64 parked_ns)
{
	record(tgid, HIST_PARK, parked_ns);
	return 0;
}

/* goro_steal(tgid, tid, victim, thief, n) */
SEC("raw_tp/goro_steal")
int BPF_PROG(steal, __s32 tgid, __s32 tid, __u32 victim, __u32 thief, __u32 n)
{
	struct steal_key key = { .tgid = tgid, .p = victim };
	__u64 *v, one = 0;

	if (targ_tgid && (__u32)tgid != targ_tgid)
		return 0;
	v = bpf_map_lookup_elem(&steals, &key);
	if (!v) {
		bpf_map_update_elem(&steals, &key, &one, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&steals, &key);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(v, n);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
