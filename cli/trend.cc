#include "trend.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace heapdrift::cli {

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

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

double MannKendallZ(const std::vector<double>& values, size_t first) {
  const size_t n = values.size() - std::min(first, values.size());
  if (n < 3) return 0;
  double s = 0;
  std::map<double, int> ties;
  for (size_t i = first; i < values.size(); ++i) {
    ++ties[values[i]];
    for (size_t j = i + 1; j < values.size(); ++j) {
      s += (values[j] > values[i]) - (values[j] < values[i]);
    }
  }
  double nn = static_cast<double>(n);
  double variance = nn * (nn - 1) * (2 * nn + 5);
  for (const auto& [value, count] : ties) {
    double t = count;
    variance -= t * (t - 1) * (2 * t + 5);
  }
  variance /= 18;
  if (variance <= 0) return 0;
  // Continuity correction: S moves in steps of 2 around 0.
  double corrected = s > 0 ? s - 1 : (s < 0 ? s + 1 : 0);
  return corrected / std::sqrt(variance);
}

TrendStats ComputeTrend(const std::vector<double>& seconds, const std::vector<double>& values) {
  TrendStats trend;
  trend.slope = TheilSenSlope(seconds, values);
  trend.z = MannKendallZ(values);
  size_t half = values.size() / 2;
  trend.recent_slope = TheilSenSlope(seconds, values, half);
  trend.recent_z = MannKendallZ(values, half);
  return trend;
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

Classification Classify(const TrendStats& trend, double duration_seconds, double noise_bytes,
                        size_t points) {
  Classification result;
  if (points < 5 || duration_seconds <= 0) return result;
  constexpr double kSignificant = 1.645;      // one-sided 95 %
  constexpr double kRecentSignificant = 1.28;  // one-sided 90 %, half the points
  if (trend.z <= -kSignificant && trend.slope < 0) {
    result.verdict = Verdict::kShrinking;
    return result;
  }
  bool increasing = trend.z >= kSignificant && trend.slope > 0;
  bool above_noise = trend.slope * duration_seconds > 3 * noise_bytes;
  if (!increasing || !above_noise) return result;
  bool still_increasing =
      trend.recent_z >= kRecentSignificant || trend.recent_slope >= 0.5 * trend.slope;
  if (!still_increasing) {
    result.verdict = Verdict::kPlateau;
    return result;
  }
  result.verdict = Verdict::kGrowing;
  // How sure we are that the whole series and its recent half both rise.
  result.confidence = std::min(NormalCdf(trend.z), NormalCdf(trend.recent_z));
  return result;
}

}  // namespace heapdrift::cli
