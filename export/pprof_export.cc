#include "pprof_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "call_site_resolver.h"
#include "site_series.h"
#include "symbolizer.h"

namespace heapdrift {
namespace {

class StringTable {
 public:
  explicit StringTable(pprof::Profile* profile) : profile_(profile) { Index(""); }
  int64_t Index(const std::string& text) {
    auto [it, inserted] = indices_.try_emplace(text, profile_->string_table_size());
    if (inserted) profile_->add_string_table(text);
    return it->second;
  }

 private:
  pprof::Profile* profile_;
  std::unordered_map<std::string, int64_t> indices_;
};

std::string Hex(const std::string& bytes) {
  std::string hex;
  for (unsigned char byte : bytes) hex += fmt::format("{:02x}", byte);
  return hex;
}

}  // namespace

pprof::Profile BuildPprofProfile(CallSiteResolver& resolver, double at_seconds) {
  resolver.FollowModules();
  const Recording& recording = resolver.recording();
  pprof::Profile profile;
  StringTable strings(&profile);
  // alloc before inuse, as Go's heap profiles: pprof shows inuse_space by default.
  for (const auto& [type, unit] : {std::pair{"alloc_objects", "count"}, {"alloc_space", "bytes"},
                                  {"inuse_objects", "count"}, {"inuse_space", "bytes"}}) {
    pprof::ValueType* value_type = profile.add_sample_type();
    value_type->set_type(strings.Index(type));
    value_type->set_unit(strings.Index(unit));
  }
  profile.mutable_period_type()->set_type(strings.Index("space"));
  profile.mutable_period_type()->set_unit(strings.Index("bytes"));
  profile.set_period(static_cast<int64_t>(recording.header.sample_bytes()));
  profile.set_default_sample_type(strings.Index("inuse_space"));
  profile.add_comment(strings.Index("heapdrift " + recording.header.agent_version() + ", pid " +
                                    std::to_string(recording.header.pid())));

  SitesAt state = StateAt(recording, at_seconds);
  profile.set_time_nanos(static_cast<int64_t>(recording.header.start_time_unix_ns()) +
                         static_cast<int64_t>(state.seconds * 1e9));
  profile.set_duration_nanos(static_cast<int64_t>(state.seconds * 1e9));

  // pprof takes the first mapping for the main binary.
  std::vector<symbolizer::ModuleSpec> modules = SymbolizerModules(recording);
  std::stable_partition(modules.begin(), modules.end(), [&recording](const auto& module) {
    return module.path == recording.header.executable();
  });
  for (size_t i = 0; i < modules.size(); ++i) {
    pprof::Mapping* mapping = profile.add_mapping();
    mapping->set_id(i + 1);
    mapping->set_memory_start(modules[i].start);
    mapping->set_memory_limit(modules[i].limit);
    mapping->set_file_offset(0);
    mapping->set_filename(strings.Index(modules[i].path));
    mapping->set_build_id(strings.Index(Hex(modules[i].build_id)));
    mapping->set_has_functions(true);
    mapping->set_has_filenames(true);
    mapping->set_has_line_numbers(true);
    mapping->set_has_inline_frames(true);
  }
  auto mapping_id = [&modules](uint64_t address) -> uint64_t {
    for (size_t i = 0; i < modules.size(); ++i) {
      if (address >= modules[i].start && address < modules[i].limit) return i + 1;
    }
    return 0;
  };

  std::unordered_map<uint64_t, uint64_t> locations;  // return address -> location id
  std::map<std::pair<std::string, std::string>, uint64_t> functions;  // (name, file) -> id
  auto location_for = [&](uint64_t return_address) {
    auto [it, inserted] = locations.try_emplace(return_address, locations.size() + 1);
    if (!inserted) return it->second;
    pprof::Location* location = profile.add_location();
    location->set_id(it->second);
    location->set_address(return_address - 1);
    location->set_mapping_id(mapping_id(return_address - 1));
    for (const symbolizer::Frame& frame : resolver.Symbolize(return_address)) {
      std::string name = frame.function.empty() ? frame.ModuleOffset() : frame.function;
      auto [function, added] =
          functions.try_emplace({name, frame.file}, functions.size() + 1);
      if (added) {
        pprof::Function* entry = profile.add_function();
        entry->set_id(function->second);
        entry->set_name(strings.Index(name));
        entry->set_system_name(strings.Index(name));
        entry->set_filename(strings.Index(frame.file));
      }
      pprof::Line* line = location->add_line();
      line->set_function_id(function->second);
      line->set_line(frame.line);
    }
    return it->second;
  };

  for (const auto& [id, site] : state.sites) {
    if (site.allocated_objects() == 0 && site.live_bytes() == 0) continue;
    auto stack = recording.stacks.find(id);
    if (stack == recording.stacks.end()) continue;
    pprof::Sample* sample = profile.add_sample();
    for (uint64_t address : stack->second) sample->add_location_id(location_for(address));
    sample->add_value(static_cast<int64_t>(site.allocated_objects()));
    sample->add_value(static_cast<int64_t>(site.allocated_bytes()));
    sample->add_value(std::max<int64_t>(0, site.live_objects()));
    sample->add_value(std::max<int64_t>(0, site.live_bytes()));
  }
  return profile;
}

}  // namespace heapdrift
