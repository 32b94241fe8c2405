// The catalogue against the embedded objects, without root: every program a
// row names exists in the row's object, in a section of the row's probe
// type, hooking what the row says (its prototypes or its tracepoints). A
// typo in a program name would otherwise show only as a load failure on
// some kernel, and the fallback would hide it.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "loading/programs.h"
#include "util/bpf_handles.h"

namespace cgio {
namespace {

// Program name -> ELF section of one object.
using Sections = std::map<std::string, std::string, std::less<>>;

Sections sections_of(const BpfObjectSpec& object) {
  size_t size = 0;
  const void* bytes = object.elf_bytes(&size);
  const std::string name(object.name);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
  BpfObjectPtr obj(bpf_object__open_mem(bytes, size, &opts));
  Sections out;
  if (!obj) {
    ADD_FAILURE() << "cannot open embedded object " << name << ": errno " << errno;
    return out;
  }
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj.get()) out[bpf_program__name(prog)] = bpf_program__section_name(prog);
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Everything wrong with one catalogue row, given the sections of its object;
// empty when the row agrees with the object.
std::vector<std::string> check_row(const Implementation& impl, const Sections& sections) {
  std::vector<std::string> problems;
  const std::string row = std::string(impl.operation) + "/" + std::string(to_string(impl.probe_type)) + "/" +
                          std::string(impl.variant) + " (" + std::string(impl.object->name) + ")";
  const auto problem = [&](const std::string& what) { problems.push_back(row + ": " + what); };
  if (impl.programs.empty()) problem("names no program");

  std::set<std::string_view> hooked_functions;  // fentry/kprobe: after the section prefix
  std::set<std::string_view> syscall_events;    // tracepoint/syscalls/<event>
  std::set<std::string_view> btf_events;        // tp_btf/<event>, raw_tp/<event>
  for (const std::string_view program : impl.programs) {
    const auto it = sections.find(program);
    if (it == sections.end()) {
      problem("program " + std::string(program) + " is not in the object");
      continue;
    }
    const std::string_view section = it->second;
    const auto hook_after = [&](std::initializer_list<std::string_view> prefixes) -> std::string_view {
      for (const std::string_view p : prefixes) {
        if (starts_with(section, p) && section.size() > p.size()) return section.substr(p.size());
      }
      problem("program " + std::string(program) + " is in section " + std::string(section) + ", not a " +
              std::string(to_string(impl.probe_type)) + " section");
      return {};
    };
    switch (impl.probe_type) {
      case ProbeType::fentry:
        if (auto fn = hook_after({"fentry/", "fexit/"}); !fn.empty()) hooked_functions.insert(fn);
        break;
      case ProbeType::kprobe:
        if (auto fn = hook_after({"kprobe/", "kretprobe/"}); !fn.empty()) hooked_functions.insert(fn);
        break;
      case ProbeType::tracepoint:
        if (starts_with(section, "tracepoint/syscalls/")) {
          syscall_events.insert(section.substr(std::string_view("tracepoint/syscalls/").size()));
        } else if (auto ev = hook_after({"tp_btf/", "raw_tp/"}); !ev.empty()) {
          btf_events.insert(ev);
        }
        break;
    }
  }

  if (impl.probe_type == ProbeType::tracepoint) {
    if (impl.tracepoints.empty()) problem("a tracepoint row without tracepoints (the probe needs one)");
    if (!impl.prototypes.empty()) problem("a tracepoint row with prototypes");
    std::set<std::string_view> listed_syscalls;
    for (const std::string_view tp : impl.tracepoints) {
      if (starts_with(tp, "syscalls/")) {
        const std::string_view event = tp.substr(std::string_view("syscalls/").size());
        listed_syscalls.insert(event);
        if (!syscall_events.contains(event)) problem("tracepoint " + std::string(tp) + " has no program");
      } else if (starts_with(tp, "btf:")) {
        if (!btf_events.contains(tp.substr(4))) problem("tracepoint " + std::string(tp) + " has no program");
      } else {
        problem("tracepoint " + std::string(tp) + " is neither syscalls/<event> nor btf:<event>");
      }
    }
    // Syscall tracepoints are probed and attached by the list: all of them listed.
    for (const std::string_view event : syscall_events) {
      if (!listed_syscalls.contains(event))
        problem("section tracepoint/syscalls/" + std::string(event) + " not listed");
    }
  } else {
    if (!impl.tracepoints.empty())
      problem("tracepoints listed for a " + std::string(to_string(impl.probe_type)) + " row");
    // Every hooked function is one whose prototype the row checks, and every
    // function the row requires is hooked.
    std::set<std::string_view> required;
    for (const ProtoSpec& p : impl.prototypes) {
      if (!p.absent) required.insert(p.function);
    }
    for (const std::string_view fn : hooked_functions) {
      if (!required.contains(fn)) problem("hooks " + std::string(fn) + " without a prototype to check it against");
    }
    for (const std::string_view fn : required) {
      if (!hooked_functions.contains(fn)) problem("checks the prototype of " + std::string(fn) + " but hooks it not");
    }
  }
  return problems;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

const Sections& sections_cached(const BpfObjectSpec* object) {
  static std::map<const BpfObjectSpec*, Sections> cache;
  auto it = cache.find(object);
  if (it == cache.end()) it = cache.emplace(object, sections_of(*object)).first;
  return it->second;
}

const Implementation& row_of(std::string_view operation, ProbeType type) {
  for (const Implementation& impl : catalogue()) {
    if (impl.operation == operation && impl.probe_type == type) return impl;
  }
  ADD_FAILURE() << "no row " << operation;
  return catalogue().front();
}

TEST(EmbeddedObjects, EveryObjectOpens) {
  std::set<const BpfObjectSpec*> objects;
  for (const Implementation& impl : catalogue()) objects.insert(impl.object);
  EXPECT_GE(objects.size(), 8u);
  for (const BpfObjectSpec* object : objects) {
    EXPECT_FALSE(sections_cached(object).empty()) << object->name;
  }
}

TEST(EmbeddedObjects, EveryCatalogueRowMatchesItsObject) {
  ASSERT_FALSE(catalogue().empty());
  std::vector<std::string> problems;
  for (const Implementation& impl : catalogue()) {
    const auto p = check_row(impl, sections_cached(impl.object));
    problems.insert(problems.end(), p.begin(), p.end());
  }
  EXPECT_TRUE(problems.empty()) << joined(problems);
}

TEST(EmbeddedObjects, CheckerCatchesAMisspelledProgram) {
  Implementation typo = row_of("vfs_read", ProbeType::fentry);
  ASSERT_TRUE(check_row(typo, sections_cached(typo.object)).empty());
  typo.programs[0] = "cgio_fx_raed";
  const auto problems = check_row(typo, sections_cached(typo.object));
  ASSERT_EQ(problems.size(), 2u) << joined(problems);
  EXPECT_EQ(problems[0], "vfs_read/fentry/vfs (cgio_vfs_fx): program cgio_fx_raed is not in the object");
  // ...and so nothing hooks vfs_read any more.
  EXPECT_EQ(problems[1], "vfs_read/fentry/vfs (cgio_vfs_fx): checks the prototype of vfs_read but hooks it not");
}

TEST(EmbeddedObjects, CheckerCatchesAProgramOfAnotherProbeType) {
  Implementation wrong = row_of("vfs_read", ProbeType::kprobe);
  wrong.probe_type = ProbeType::fentry;  // kprobe programs in a fentry row
  const auto problems = check_row(wrong, sections_cached(wrong.object));
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("in section kprobe/vfs_read, not a fentry section"), std::string::npos) << problems[0];
}

TEST(EmbeddedObjects, CheckerCatchesTracepointsThatDisagreeWithSections) {
  Implementation wrong = row_of("vfs_mkdir", ProbeType::tracepoint);
  wrong.tracepoints = {"syscalls/sys_exit_mkdir", "syscalls/sys_exit_mkdirate"};
  const auto problems = check_row(wrong, sections_cached(wrong.object));
  ASSERT_EQ(problems.size(), 2u) << joined(problems);
  EXPECT_NE(problems[0].find("tracepoint syscalls/sys_exit_mkdirate has no program"), std::string::npos);
  EXPECT_NE(problems[1].find("section tracepoint/syscalls/sys_exit_mkdirat not listed"), std::string::npos);
}

TEST(EmbeddedObjects, CheckerCatchesAnUncheckedHook) {
  Implementation wrong = row_of("vfs_read", ProbeType::fentry);
  wrong.prototypes.pop_back();  // vfs_readv hooked, its prototype no longer checked
  const auto problems = check_row(wrong, sections_cached(wrong.object));
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_NE(problems[0].find("hooks vfs_readv without a prototype"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace cgio
