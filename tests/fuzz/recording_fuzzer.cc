// libFuzzer target: arbitrary bytes through the recording reader and the
// growth statistics. Whatever the input, no crash, no hang, no sanitizer
// report: a recording either reads (maybe with warnings) or is refused.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cohorts.h"
#include "recording.h"
#include "site_series.h"
#include "trend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace heapdrift;
  Recording recording;
  ReadResult result =
      ParseRecording(std::string(reinterpret_cast<const char*>(data), size), "input", &recording);
  if (result.status != ReadStatus::kOk) return 0;
  SiteSeries series = SampleSiteSeries(recording, 32);
  VerdictMoments moments = ChooseVerdictMoments(recording, series.snapshot_index);
  auto ages = MeasureAgeAtMoments(recording, moments);
  for (size_t entry = 0; entry < series.live.size(); ++entry) {
    const AgeAtMoments& age = ages[series.stack_ids[entry]];
    SinceBoundary boundary{age.live_at_recent_from, age.kept_from_recent_from, OldMemory{}};
    Classify(GatherEvidence(series.seconds, series.live[entry],
                            moments.has_recent ? &boundary : nullptr, 1.0, 1.0));
    EstimateRate(series.seconds, series.live[entry], 1.0);
  }
  StateAt(recording, 1.0);
  return 0;
}
