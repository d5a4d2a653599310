// libFuzzer target: arbitrary bytes through the recording reader and the
// growth statistics. Whatever the input, no crash, no hang, no sanitizer
// report: a recording either reads (maybe with warnings) or is refused.
#include <cstddef>
#include <cstdint>
#include <string>

#include "recording.h"
#include "site_series.h"
#include "trend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace heapdrift::cli;
  Recording recording;
  ReadResult result =
      ParseRecording(std::string(reinterpret_cast<const char*>(data), size), "input", &recording);
  if (result.status != ReadStatus::kOk) return 0;
  SiteSeries series = SampleSiteSeries(recording, 32);
  for (const auto& live : series.live) {
    Classify(ComputeTrend(series.seconds, live), 1.0, 1.0, live.size());
  }
  StateAt(recording, 1.0);
  return 0;
}
