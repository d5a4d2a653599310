#include "options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "environment.h"
#include "option_table.h"

namespace heapdrift::agent {
namespace {

const char* FromEnvironment(const char* name, const void*) { return GetEnv(name); }

// Where settings are read from: the environment, or a wake request.
struct SettingSource {
  SettingLookup lookup;
  const void* context;
  const char* Get(const char* name) const { return lookup(name, context); }
};

bool ParseCount(const SettingSource& source, const CountOption& option, uint64_t* value,
                char* error, unsigned long error_size) {
  const char* name = option.variable;
  const uint64_t min = option.min, max = option.max;
  const char* text = source.Get(name);
  if (text == nullptr || *text == '\0') return true;
  char* end = nullptr;
  errno = 0;
  unsigned long long parsed = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || parsed < min ||
      parsed > max) {
    snprintf(error, error_size, "invalid %s='%.64s' (expected an integer from %llu to %llu)", name,
             text, static_cast<unsigned long long>(min), static_cast<unsigned long long>(max));
    return false;
  }
  *value = parsed;
  return true;
}

bool ParseFlag(const SettingSource& source, const FlagOption& option, bool* value, char* error,
               unsigned long error_size) {
  const char* name = option.variable;
  const char* text = source.Get(name);
  if (text == nullptr || *text == '\0') return true;
  if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0 || strcmp(text, "yes") == 0) {
    *value = true;
  } else if (strcmp(text, "0") == 0 || strcmp(text, "false") == 0 || strcmp(text, "no") == 0) {
    *value = false;
  } else {
    snprintf(error, error_size, "invalid %s='%.64s' (expected 1 or 0)", name, text);
    return false;
  }
  return true;
}

bool ParseFollow(const SettingSource& source, FollowMode* mode, char* error,
                 unsigned long error_size) {
  const char* text = source.Get(option::follow.variable);
  if (text == nullptr || *text == '\0') return true;
  for (size_t i = 0; i < std::size(kFollowModeNames); ++i) {
    if (strcmp(text, kFollowModeNames[i]) == 0) {
      *mode = static_cast<FollowMode>(i);
      return true;
    }
  }
  int used = snprintf(error, error_size, "invalid %s='%.64s' (expected", option::follow.variable,
                      text);
  for (const char* name : kFollowModeNames) {
    if (used < 0 || static_cast<unsigned long>(used) >= error_size) break;
    used += snprintf(error + used, error_size - used, " %s", name);
  }
  if (used >= 0 && static_cast<unsigned long>(used) + 1 < error_size) {
    snprintf(error + used, error_size - used, ")");
  }
  return false;
}

// The rate settings, the same for a start and for a wake.
bool ParseRate(const SettingSource& source, Options* options, char* error,
               unsigned long error_size) {
  return ParseCount(source, option::sample_bytes, &options->sample_bytes, error, error_size) &&
         ParseCount(source, option::max_samples_per_sec, &options->max_samples_per_sec, error,
                    error_size) &&
         ParseCount(source, option::interval_ms, &options->interval_ms, error, error_size);
}

bool Parse_output(const SettingSource& source, Options* options, char* error,
                  unsigned long error_size) {
  const char* output = source.Get(option::output.variable);
  if (output == nullptr) return true;
  size_t length = strlen(output);
  if (length == 0 || length >= sizeof(options->output) ||
      (strncmp(output, "unix:", 5) == 0 && length == 5)) {
    snprintf(error, error_size, "invalid %s (expected a file path or unix:/path)",
             option::output.variable);
    return false;
  }
  memcpy(options->output, output, length + 1);
  return true;
}

bool Parse_control_dir(const SettingSource& source, Options* options, char* error,
                       unsigned long error_size) {
  const char* directory = source.Get(option::control_dir.variable);
  if (directory == nullptr || *directory == '\0') return true;
  if (directory[0] != '/' || strlen(directory) >= sizeof(options->control_dir)) {
    snprintf(error, error_size, "invalid %s (expected an absolute directory path)",
             option::control_dir.variable);
    return false;
  }
  strcpy(options->control_dir, directory);
  return true;
}

// A name for dashboards: printable, no control characters.
bool Parse_service(const SettingSource& source, Options* options, char* error,
                   unsigned long error_size) {
  const char* service = source.Get(option::service.variable);
  if (service == nullptr || *service == '\0') return true;
  size_t length = strlen(service);
  bool printable = length < sizeof(options->service);
  for (size_t i = 0; printable && i < length; ++i) {
    printable = static_cast<unsigned char>(service[i]) >= 0x20 && service[i] != 0x7f;
  }
  if (!printable) {
    snprintf(error, error_size, "invalid %s (expected a printable name under %zu bytes)",
             option::service.variable, sizeof(options->service));
    return false;
  }
  memcpy(options->service, service, length + 1);
  return true;
}

}  // namespace

bool Options::streams_to_socket() const { return strncmp(output, "unix:", 5) == 0; }
const char* Options::socket_path() const { return output + 5; }

bool ParseOptions(Options* options, char* error, unsigned long error_size) {
  SettingSource source{FromEnvironment, nullptr};
  // Every setting in the table's order. The texts have rules of their own.
#define HEAPDRIFT_TEXT(field, variable, default_value, capacity) \
  Parse_##field(source, options, error, error_size) &&
#define HEAPDRIFT_COUNT(field, variable, default_value, min, max) \
  ParseCount(source, option::field, &options->field, error, error_size) &&
#define HEAPDRIFT_CHOICE(field, variable, type, default_value) \
  ParseFollow(source, &options->field, error, error_size) &&
#define HEAPDRIFT_FLAG(field, variable, default_value) \
  ParseFlag(source, option::field, &options->field, error, error_size) &&
  bool parsed =
#include "option_table.inc"
      true;
#undef HEAPDRIFT_TEXT
#undef HEAPDRIFT_COUNT
#undef HEAPDRIFT_CHOICE
#undef HEAPDRIFT_FLAG
  if (!parsed) return false;
  if (options->leak_scan && options->sample_bytes != 1) {
    snprintf(error, error_size,
             "HEAPDRIFT_LEAK_SCAN=1 needs exact mode (HEAPDRIFT_SAMPLE_BYTES=1)");
    return false;
  }
  if (options->leak_scan && options->dormant) {
    snprintf(error, error_size,
             "HEAPDRIFT_LEAK_SCAN=1 cannot be dormant (blocks from before a wake are unknown)");
    return false;
  }
  bool exact = options->sample_bytes == 1;
  if (options->max_live == 0) options->max_live = exact ? (1u << 22) : (1u << 18);
  // Exact mode sees every allocating stack, not just the heavy ones: a
  // compiler (cc1plus) has over 100,000 distinct ones on a small file.
  if (options->max_stacks == 0) options->max_stacks = exact ? (1u << 18) : (1u << 16);
  if (options->ring_events == 0) options->ring_events = exact ? (1u << 12) : (1u << 11);
  // Rings are indexed with a mask.
  uint64_t ring = 1;
  while (ring < options->ring_events) ring <<= 1;
  options->ring_events = ring;
  return true;
}

bool ParseWakeSettings(Options* options, SettingLookup lookup, const void* context, char* error,
                       unsigned long error_size) {
  SettingSource source{lookup, context};
  options->output[0] = '\0';  // the connection, unless the wake names a receiver
  if (!Parse_output(source, options, error, error_size) ||
      !ParseRate(source, options, error, error_size)) {
    return false;
  }
  if (options->output[0] != '\0' && !options->streams_to_socket()) {
    snprintf(error, error_size, "a wake's HEAPDRIFT_OUTPUT must be unix:/path (a receiver)");
    return false;
  }
  return true;
}

}  // namespace heapdrift::agent
