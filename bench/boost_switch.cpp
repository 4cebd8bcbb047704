// SPDX-License-Identifier: MIT
/*
 * Raw Boost.Context switch: two execution contexts bounce control with
 * jump_fcontext (the assembly under boost::context::fiber), no scheduler
 * at all.  ns per switch; one round trip is two switches.  Also reports
 * the same through the public boost::context::fiber API.
 */
#include <boost/context/detail/fcontext.hpp>
#include <boost/context/fiber.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace ctx = boost::context;
namespace det = boost::context::detail;

static uint64_t now_ns()
{
	timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

static void result(const char *bench, const char *impl, double ns)
{
	std::printf("RESULT bench=%s impl=%s value=%.3f unit=ns\n", bench, impl, ns);
}

static void bounce(det::transfer_t t)
{
	for (;;)
		t = det::jump_fcontext(t.fctx, nullptr);
}

static double fcontext_switch(long n)
{
	std::vector<char> stack(64 * 1024);
	det::fcontext_t f = det::make_fcontext(stack.data() + stack.size(),
					       stack.size(), bounce);
	uint64_t t0;

	for (long i = 0; i < n / 10; i++)
		f = det::jump_fcontext(f, nullptr).fctx;
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		f = det::jump_fcontext(f, nullptr).fctx;
	return double(now_ns() - t0) / double(2 * n);
}

static double fiber_switch(long n)
{
	ctx::fiber f{[](ctx::fiber &&main) {
		for (;;)
			main = std::move(main).resume();
		return std::move(main);
	}};
	uint64_t t0;

	for (long i = 0; i < n / 10; i++)
		f = std::move(f).resume();
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		f = std::move(f).resume();
	return double(now_ns() - t0) / double(2 * n);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? std::atol(argv[1]) : 20000000;

	if (n <= 0) {
		std::fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[1]);
		return 2;
	}
	result("yield_1p", "boost", fcontext_switch(n));
	result("switch_fiber", "boost", fiber_switch(n));
	return 0;
}
