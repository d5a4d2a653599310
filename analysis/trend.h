// The verdict on one call site's live memory: growing (a leak), plateau,
// flat or shrinking, from its live bytes over time and the age of what is
// live. Pure functions, no I/O.
//
// Why not a classic trend test: the sampled live bytes of a site whose
// objects turn over are not independent points around a line. Successive
// snapshots share most of their samples, so the series wanders for as long
// as its objects live, and a test that assumes independent points (OLS,
// Mann-Kendall) finds "significant" trends in a cache that stopped growing.
// Each test here compares the live bytes at two moments against the noise
// sampling can make between them, which holds whatever the autocorrelation:
//
//   An estimate of B live bytes in objects of size s is a sum of samples:
//   each object is sampled with probability p = 1 - exp(-s/R) and weighs
//   s/p (R the sampling interval), so the estimate's variance is
//   B * s (1 - p) / p: ~R * B for objects much smaller than R, ~0 for objects
//   much larger (SamplingVariancePerByte). Between moments a and b,
//   L(b) - L(a) = Born - Died, where Born is what was born after a and is
//   live at b, Died what was live at a and died by b: disjoint sets of
//   allocations, sampled independently, so Var(L(b) - L(a)) = R (Born + Died).
//   The blocks live at both moments are the same samples and cancel.
//
// When a is a cohort boundary, the agent's cohorts give Born and Died
// exactly: Kept = what was born before a and is live at b; Died = L(a) - Kept,
// Born = L(b) - Kept (RiseSince). Otherwise the means of two windows of
// points are compared with the bound Var <= R (mean_a + mean_b), valid when
// the points are positively correlated, as shared samples make them
// (RiseBetweenWindows).
#pragma once

#include <cstddef>
#include <vector>

namespace heapdrift {

// Standard normal cumulative distribution.
double NormalCdf(double z);

// s (1 - p) / p with p = 1 - exp(-s / R): the variance that sampling adds per
// live byte, for objects of size `object_size` at interval R.
double SamplingVariancePerByte(double interval, double object_size);
// s / p: the bytes one sampled object of that size stands for.
double BytesPerSampledObject(double interval, double object_size);

// Theil-Sen: the median of the slopes between all pairs of points, robust to
// outliers such as a teardown at exit.
double TheilSenSlope(const std::vector<double>& seconds, const std::vector<double>& values,
                     size_t first = 0);

// How far the live bytes rose between two moments, in bytes and in standard
// errors of sampling noise.
struct Rise {
  double bytes = 0;
  double z = 0;
};
// `kept`: the bytes live at `then` that are still live `now` (cohorts).
// `floor_variance`: the least variance granted to the rise (the program's
// own scatter, PointScatter).
Rise RiseSince(double live_then, double live_now, double kept, double bytes_per_sample,
               double floor_variance = 0);
// Mean of values[b_begin, b_end) minus mean of values[a_begin, a_end).
Rise RiseBetweenWindows(const std::vector<double>& values, size_t a_begin, size_t a_end,
                        size_t b_begin, size_t b_end, double bytes_per_sample,
                        double floor_variance = 0);

// The scatter of one point that is not sampling's: the program's own live
// bytes wander too (a sweeper running late, a burst of requests), which
// matters most in exact mode, where sampling adds nothing. Estimated as half
// the variance of successive steps around the straight line from the first
// point to the last, each step measured against what the line rises over
// that step's own time (so a steady trend adds nothing, however unevenly the
// snapshots came: a collector starved of CPU writes them late, then in a
// burst): for points with independent scatter of variance d^2 around a
// trend, each step has variance 2 d^2. Each rise is granted at least twice
// this (two moments, each scattering).
double PointScatter(const std::vector<double>& seconds, const std::vector<double>& values);

// What became of the memory a site allocated before `born_before` seconds.
struct OldMemory {
  double born_before = 0;     // seconds since the start
  double allocated = 0;       // bytes allocated before then
  double checked_at = 0;      // a later moment, seconds
  double live_at_check = 0;   // of those bytes, live at `checked_at`
  double live_at_end = 0;     // and at the end of the analysed window
  bool known() const { return allocated > 0; }
  // Share of what was allocated that is still live at the end.
  double kept_share() const { return allocated > 0 ? live_at_end / allocated : 0; }
  // Share of what was still live at the check that is live at the end: ~1
  // for a leak (what it keeps, it keeps), falling for a cache that replaces.
  double persistence() const { return live_at_check > 0 ? live_at_end / live_at_check : 0; }
};

struct Evidence {
  Rise whole;       // from the start of the window to its end
  Rise recent;      // over the last third (or more) of the window
  OldMemory old;    // born before the recent part began
  size_t points = 0;
  // What one sampled object stands for: s / p (SamplingVariancePerByte).
  // Persistence over fewer than ten of them says nothing: a vector's array
  // that grows by reallocation is one object, and dies at each move.
  double bytes_per_object = 0;
};

// The memory at a cohort boundary before the recent part of the window, as
// the cohorts tell it (see cohorts.h).
struct SinceBoundary {
  double live_then = 0;  // live bytes at the boundary
  double kept = 0;       // of those, live at the end
  OldMemory old;
};
// The whole window's rise compares the means of its first and last thirds:
// many points, so no one moment's scatter makes it alone. The recent rise is
// measured exactly from the boundary to the end when there is one, else
// between the means of the last two thirds.
Evidence GatherEvidence(const std::vector<double>& seconds, const std::vector<double>& series,
                        const SinceBoundary* boundary, double bytes_per_sample,
                        double bytes_per_object);

enum class Verdict { kGrowing, kPlateau, kFlat, kShrinking };
const char* VerdictName(Verdict verdict);

struct Classification {
  Verdict verdict = Verdict::kFlat;
  // For growing sites: the smaller of the one-sided confidences that the
  // whole window and its recent part rose; 0 otherwise.
  double confidence = 0;
};

// Growing: risen over the window (z >= 2.33, one-sided 1 %), still rising
// over its recent part (z >= 2.33, 1 %), and, where the age is known, the
// memory born before the recent part is kept (persistence >= 0.5, judged
// when it is ten sampled objects or more): a leak keeps what it does not free. A cache still settling replaces its old
// entries, and a site that rose and stopped is a plateau. Shrinking: fell
// over the window at z <= -2.33.
//
// False alarms: on a site whose true live bytes do not change, each z is
// at most standard normal (exactly so in RiseSince, a bound in
// RiseBetweenWindows). A site that rose and then stopped (a cache that
// filled, a one-time step) passes the whole-window test by right, so the
// recent test alone guards it: <= 1 % per site and report, and a cache that
// turns over must also keep its old memory (it does not). A site that never
// rose must pass both: <= 1 %, and far less where the window bound is loose.
Classification Classify(const Evidence& evidence);

// The growth rate: Theil-Sen, and a 90 % interval from its standard error
//   SE^2 = (6/5) V max(slope, 0) / H  +  s^2 / Sxx
// The first term is the leak's own sampling: the leaked bytes seen by time t
// are a compound Poisson process of variance rate V * slope (V the sampling
// variance per byte), and an OLS
// slope over a span H of such a process has variance 6 v / (5 H). The second
// is the scatter s^2 of the points around the line over Sxx = sum (t - mean)^2,
// which covers the rest (objects that come and go) and, counting the leak's
// wander a second time, errs wide.
struct RateEstimate {
  double bytes_per_sec = 0;
  double low = 0, high = 0;  // 90 % interval
};
RateEstimate EstimateRate(const std::vector<double>& seconds, const std::vector<double>& values,
                          double bytes_per_sample);

}  // namespace heapdrift
