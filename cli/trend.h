// Trend statistics for one call site's live bytes over time, and the verdict
// drawn from them. Pure functions, no I/O.
//
// Slope: Theil-Sen (the median of the slopes between all pairs of points),
// robust to outliers such as a teardown at exit. Significance: the
// Mann-Kendall test (S = sum of sign(y_j - y_i) over i < j, with the tie
// correction of its variance), one-sided for an increase.
//
// Growing means all of: an increasing trend over the whole series at 95 %
// confidence; still increasing over its recent half (otherwise it is a
// plateau: a cache that filled, or a one-time step); and a total growth
// larger than the sampling noise of the estimates. Churn and noise give no
// significant trend, so they are flat.
#pragma once

#include <string>
#include <vector>

namespace heapdrift::cli {

struct TrendStats {
  double slope = 0;         // Theil-Sen, bytes per second
  double z = 0;             // Mann-Kendall, normalised
  double recent_slope = 0;  // the same over the last half of the points
  double recent_z = 0;
};

TrendStats ComputeTrend(const std::vector<double>& seconds, const std::vector<double>& values);

double TheilSenSlope(const std::vector<double>& seconds, const std::vector<double>& values,
                     size_t first = 0);
double MannKendallZ(const std::vector<double>& values, size_t first = 0);
// Standard normal cumulative distribution.
double NormalCdf(double z);

enum class Verdict { kGrowing, kPlateau, kFlat, kShrinking };
const char* VerdictName(Verdict verdict);

struct Classification {
  Verdict verdict = Verdict::kFlat;
  // For growing sites: min(P(whole series rises), P(recent half rises)) from
  // the Mann-Kendall statistics; 0 otherwise.
  double confidence = 0;
};

// `noise_bytes`: the standard error of one estimate of this site's live
// bytes from sampling (sqrt(R * live)); growth must exceed 3 of them.
Classification Classify(const TrendStats& trend, double duration_seconds, double noise_bytes,
                        size_t points);

}  // namespace heapdrift::cli
