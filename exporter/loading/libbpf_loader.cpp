#include "loading/libbpf_loader.h"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "util/bpf_handles.h"
#include "util/log.h"

namespace cgio {
namespace {

// libbpf warnings of the current load or attach on this thread.
thread_local std::vector<std::string> t_warnings;

int libbpf_print(libbpf_print_level level, const char* format, va_list args) {
  char* text_buf = nullptr;
  const int n = vasprintf(&text_buf, format, args);
  if (n < 0) return 0;
  std::string text(text_buf, static_cast<size_t>(n));
  std::free(text_buf);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return 0;
  if (level == LIBBPF_WARN) t_warnings.push_back(text);
  log::debug("libbpf", {{"level", level == LIBBPF_WARN   ? "warn"
                                  : level == LIBBPF_INFO ? "info"
                                                         : "debug"},
                        {"text", text}});
  return 0;
}

// Appends the most telling libbpf warning to an error: the verifier's
// complaint when a verifier log was printed, else the first warning.
Error with_libbpf_detail(Error e) {
  std::string detail;
  for (const std::string& w : t_warnings) {
    const size_t end = w.find("-- END PROG LOAD LOG --");
    if (end == std::string::npos) continue;
    size_t pos = end;
    while (pos > 0) {
      const size_t line_end = w.rfind('\n', pos - 1);
      if (line_end == std::string::npos) break;
      const size_t line_start = w.rfind('\n', line_end - 1);
      const std::string line = w.substr(line_start == std::string::npos ? 0 : line_start + 1,
                                        line_end - (line_start == std::string::npos ? 0 : line_start + 1));
      pos = line_start == std::string::npos ? 0 : line_start + 1;
      if (line.empty() || line.starts_with("processed ") || line.starts_with("verification time") ||
          line.starts_with("stack depth")) {
        continue;
      }
      detail = "verifier: " + line;
      break;
    }
    if (!detail.empty()) break;
  }
  if (detail.empty() && !t_warnings.empty()) detail = t_warnings.front();
  if (!detail.empty()) e.message += " (" + detail + ")";
  return e;
}

class LibbpfObject final : public LoadedObject {
 public:
  LibbpfObject(SkeletonPtr skeleton, bpf_object* obj, Tracefs& tracefs, std::string name)
      : skeleton_(std::move(skeleton)), obj_(obj), tracefs_(tracefs), name_(std::move(name)) {}

  Result<void> attach(std::string_view program) override {
    bpf_program* prog = bpf_object__find_program_by_name(obj_, std::string(program).c_str());
    if (prog == nullptr) return Error{"no such program in object"};
    const std::string section = bpf_program__section_name(prog);
    t_warnings.clear();
    bpf_link* link = nullptr;
    if (section.starts_with("tracepoint/")) {
      auto r = attach_tracepoint(prog, section.substr(std::strlen("tracepoint/")));
      if (!r) return r.error();
      link = *r;
    } else {
      link = bpf_program__attach(prog);
      if (link == nullptr) return with_libbpf_detail(errno_error("attach " + section, errno));
    }
    links_[std::string(program)].reset(link);
    return {};
  }

  void detach(std::string_view program) override { links_.erase(std::string(program)); }
  bool has_links() const override { return !links_.empty(); }
  int program_fd(std::string_view program) const override {
    const bpf_program* prog = bpf_object__find_program_by_name(obj_, std::string(program).c_str());
    return prog != nullptr ? bpf_program__fd(prog) : -1;
  }
  Result<void> pin_links(const std::string& dir) override {
    for (auto& [program, link] : links_) {
      // Object and program: the same program name is in both builds of an object.
      const std::string path = dir + "/" + name_ + "_" + program;
      if (int err = bpf_link__pin(link.get(), path.c_str()); err != 0) {
        return errno_error("cannot pin the link of " + program + " at " + path, -err);
      }
    }
    return {};
  }

 private:
  // Syscall tracepoints attach through a perf event on the tracepoint's id;
  // the id comes from the tracefs found at run time rather than libbpf's
  // fixed paths.
  Result<bpf_link*> attach_tracepoint(bpf_program* prog, const std::string& tp) {
    auto pfd = tracefs_.open_perf_event(tp);
    if (!pfd) return pfd.error();
    bpf_link* link = bpf_program__attach_perf_event(prog, pfd->get());
    if (link == nullptr) return with_libbpf_detail(errno_error("attach to tracepoint " + tp, errno));
    pfd->release();  // the link owns the perf event descriptor
    return link;
  }

  // Links are declared after the skeleton (which owns the object) so they
  // are destroyed first.
  SkeletonPtr skeleton_;
  bpf_object* obj_;
  Tracefs& tracefs_;
  std::string name_;
  std::map<std::string, BpfLinkPtr> links_;
};

}  // namespace

void install_libbpf_logging() { libbpf_set_print(libbpf_print); }

LibbpfObjectLoader::LibbpfObjectLoader(SharedMapFds maps, cgio_config config, Tracefs& tracefs, std::string btf_path)
    : maps_(maps), config_(config), tracefs_(tracefs), btf_path_(std::move(btf_path)) {}

Result<std::unique_ptr<LoadedObject>> LibbpfObjectLoader::load(const BpfObjectSpec& object,
                                                               const std::vector<std::string_view>& programs) {
  t_warnings.clear();
  const std::string name(object.name);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path_.empty() ? nullptr : btf_path_.c_str());
  OpenedObject opened = object.open(&opts);
  if (opened.obj == nullptr) return errno_error("open embedded object " + name, errno);
  bpf_object* obj = opened.obj;

  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, obj) {
    const SharedMapSpec* shared = find_shared_map(bpf_map__name(map));
    if (shared == nullptr) continue;  // private to the object (.rodata and friends)
    const int fd = maps_[shared->id];
    if (fd < 0) {
      // A map of a feature that is off (the per-mount maps without
      // --vfs.mountpoints): a private placeholder; the programs never use it.
      if (shared->placeholder_when_off) continue;
      return Error{"map " + std::string(shared->bpf_name) + " was not created"};
    }
    if (int err = bpf_map__reuse_fd(map, fd); err != 0) {
      return errno_error("reuse map " + std::string(shared->bpf_name), -err);
    }
  }
  *opened.config = config_;  // frozen into .rodata at load

  bpf_program* prog = nullptr;
  size_t enabled = 0;
  bpf_object__for_each_program(prog, obj) {
    const bool wanted =
        std::find(programs.begin(), programs.end(), std::string_view(bpf_program__name(prog))) != programs.end();
    bpf_program__set_autoload(prog, wanted);
    enabled += wanted ? 1 : 0;
  }
  if (enabled != programs.size()) return Error{"object " + name + " lacks a requested program"};

  if (int err = bpf_object__load(obj); err != 0) {
    return with_libbpf_detail(errno_error("load " + name, -err));
  }
  return std::unique_ptr<LoadedObject>(std::make_unique<LibbpfObject>(std::move(opened.skeleton), obj, tracefs_, name));
}

}  // namespace cgio
