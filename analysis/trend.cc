#include "trend.h"

#include <algorithm>
#include <cmath>

namespace heapdrift {
namespace {

// A rise with no noise to weigh it against (exact mode, a site never
// sampled): certain if it is a rise at all.
constexpr double kCertain = 40;

Rise Judged(double rise, double variance) {
  Rise result{rise, 0};
  if (variance > 0) {
    result.z = rise / std::sqrt(variance);
  } else if (rise != 0) {
    result.z = rise > 0 ? kCertain : -kCertain;
  }
  return result;
}

double Mean(const std::vector<double>& values, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += values[i];
  return end > begin ? sum / static_cast<double>(end - begin) : 0;
}

}  // namespace

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double BytesPerSampledObject(double interval, double object_size) {
  if (object_size <= 0) return interval;
  double p = -std::expm1(-object_size / interval);
  return p > 0 ? object_size / p : interval;
}

double SamplingVariancePerByte(double interval, double object_size) {
  if (object_size <= 0) return interval;
  double p = -std::expm1(-object_size / interval);
  return p > 0 ? object_size * (1 - p) / p : interval;
}

double TheilSenSlope(const std::vector<double>& seconds, const std::vector<double>& values,
                     size_t first) {
  std::vector<double> slopes;
  for (size_t i = first; i < values.size(); ++i) {
    for (size_t j = i + 1; j < values.size(); ++j) {
      double dt = seconds[j] - seconds[i];
      if (dt > 0) slopes.push_back((values[j] - values[i]) / dt);
    }
  }
  if (slopes.empty()) return 0;
  auto middle = slopes.begin() + static_cast<long>(slopes.size() / 2);
  std::nth_element(slopes.begin(), middle, slopes.end());
  if (slopes.size() % 2 == 1) return *middle;
  double upper = *middle;
  double lower = *std::max_element(slopes.begin(), middle);
  return (lower + upper) / 2;
}

Rise RiseSince(double live_then, double live_now, double kept, double bytes_per_sample,
               double floor_variance) {
  kept = std::clamp(kept, 0.0, std::min(live_then, live_now));
  double born = live_now - kept;
  double died = live_then - kept;
  return Judged(live_now - live_then,
                std::max(bytes_per_sample * (born + died), floor_variance));
}

Rise RiseBetweenWindows(const std::vector<double>& values, size_t a_begin, size_t a_end,
                        size_t b_begin, size_t b_end, double bytes_per_sample,
                        double floor_variance) {
  double a = Mean(values, a_begin, a_end);
  double b = Mean(values, b_begin, b_end);
  return Judged(b - a, std::max(bytes_per_sample * (std::max(a, 0.0) + std::max(b, 0.0)),
                                floor_variance));
}

double PointScatter(const std::vector<double>& seconds, const std::vector<double>& values) {
  const size_t n = values.size();
  if (n < 3 || seconds.size() != n) return 0;
  double span = seconds.back() - seconds.front();
  double slope = span > 0 ? (values.back() - values.front()) / span : 0;
  // The residual steps sum to zero (the line joins the ends): n - 1 steps,
  // one degree of freedom spent on the slope.
  double sum = 0;
  for (size_t i = 1; i < n; ++i) {
    double residual = values[i] - values[i - 1] - slope * (seconds[i] - seconds[i - 1]);
    sum += residual * residual;
  }
  return sum / static_cast<double>(n - 2) / 2;
}

Evidence GatherEvidence(const std::vector<double>& seconds, const std::vector<double>& series,
                        const SinceBoundary* boundary, double bytes_per_sample,
                        double bytes_per_object) {
  Evidence evidence;
  const size_t n = series.size();
  evidence.points = n;
  evidence.bytes_per_object = bytes_per_object;
  if (n == 0) return evidence;
  double floor = 2 * PointScatter(seconds, series);
  evidence.whole = RiseBetweenWindows(series, 0, n / 3, n - n / 3, n, bytes_per_sample, floor);
  if (boundary != nullptr) {
    evidence.recent = RiseSince(boundary->live_then, series.back(), boundary->kept,
                                bytes_per_sample, floor);
    evidence.old = boundary->old;
  } else {
    evidence.recent =
        RiseBetweenWindows(series, n / 3, n - n / 3, n - n / 3, n, bytes_per_sample, floor);
  }
  return evidence;
}

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kGrowing:
      return "growing";
    case Verdict::kPlateau:
      return "plateau";
    case Verdict::kShrinking:
      return "shrinking";
    case Verdict::kFlat:
      break;
  }
  return "flat";
}

Classification Classify(const Evidence& evidence) {
  constexpr size_t kMinPoints = 5;
  constexpr double kRose = 2.326;          // one-sided 1 %
  constexpr double kStillRising = 2.326;   // one-sided 1 %
  constexpr double kKept = 0.5;
  Classification result;
  if (evidence.points < kMinPoints) return result;
  if (evidence.whole.z <= -kRose) {
    result.verdict = Verdict::kShrinking;
    return result;
  }
  if (evidence.whole.z < kRose || evidence.whole.bytes <= 0) return result;
  bool still_rising = evidence.recent.z >= kStillRising && evidence.recent.bytes > 0;
  constexpr double kEnoughObjects = 10;
  bool replaces_old = evidence.old.live_at_check > 0 &&
                      evidence.old.live_at_check >= kEnoughObjects * evidence.bytes_per_object &&
                      evidence.old.persistence() < kKept;
  if (!still_rising || replaces_old) {
    result.verdict = Verdict::kPlateau;
    return result;
  }
  result.verdict = Verdict::kGrowing;
  result.confidence = std::min(NormalCdf(evidence.whole.z), NormalCdf(evidence.recent.z));
  return result;
}

RateEstimate EstimateRate(const std::vector<double>& seconds, const std::vector<double>& values,
                          double bytes_per_sample) {
  RateEstimate rate;
  const size_t n = values.size();
  rate.bytes_per_sec = TheilSenSlope(seconds, values);
  rate.low = rate.high = rate.bytes_per_sec;
  if (n < 3) return rate;
  double mean_t = Mean(seconds, 0, n);
  double sxx = 0;
  for (double t : seconds) sxx += (t - mean_t) * (t - mean_t);
  double span = seconds.back() - seconds.front();
  if (sxx <= 0 || span <= 0) return rate;
  // The line through the Theil-Sen slope and the median intercept.
  std::vector<double> intercepts;
  for (size_t i = 0; i < n; ++i) intercepts.push_back(values[i] - rate.bytes_per_sec * seconds[i]);
  std::nth_element(intercepts.begin(), intercepts.begin() + static_cast<long>(n / 2),
                   intercepts.end());
  double intercept = intercepts[n / 2];
  double scatter = 0;
  for (size_t i = 0; i < n; ++i) {
    double residual = values[i] - (intercept + rate.bytes_per_sec * seconds[i]);
    scatter += residual * residual;
  }
  scatter /= static_cast<double>(n - 2);
  double variance = 1.2 * bytes_per_sample * std::max(rate.bytes_per_sec, 0.0) / span +
                    scatter / sxx;
  constexpr double kNinetyPercent = 1.645;
  double half_width = kNinetyPercent * std::sqrt(variance);
  rate.low = rate.bytes_per_sec - half_width;
  rate.high = rate.bytes_per_sec + half_width;
  return rate;
}

}  // namespace heapdrift
