// Kernel BTF built in memory for tests: the function prototypes and types
// cgio's planner looks at, shaped like a given kernel generation.
#pragma once

#include <bpf/btf.h>

#include <map>
#include <string>
#include <vector>

#include "kernel/btf_prototypes.h"

namespace cgio::test {

class BtfBuilder {
 public:
  BtfBuilder() : b_(btf__new_empty()) {
    types_["int"] = btf__add_int(b_, "int", 4, BTF_INT_SIGNED);
    types_["long"] = btf__add_int(b_, "long int", 8, BTF_INT_SIGNED);
    types_["ulong"] = btf__add_int(b_, "long unsigned int", 8, 0);
    types_["ushort"] = btf__add_int(b_, "short unsigned int", 2, 0);
    types_["uint"] = btf__add_int(b_, "unsigned int", 4, 0);
    types_["char"] = btf__add_int(b_, "char", 1, BTF_INT_SIGNED);
    types_["ssize_t"] = btf__add_typedef(b_, "ssize_t", types_["long"]);
    types_["size_t"] = btf__add_typedef(b_, "size_t", types_["ulong"]);
    types_["umode_t"] = btf__add_typedef(b_, "umode_t", types_["ushort"]);
    types_["rwf_t"] = btf__add_typedef(b_, "rwf_t", types_["int"]);
    types_["char *"] = btf__add_ptr(b_, types_["char"]);
    types_["const char *"] = btf__add_ptr(b_, btf__add_const(b_, types_["char"]));
    types_["void *"] = btf__add_ptr(b_, 0);
    types_["long *"] = btf__add_ptr(b_, types_["long"]);
    types_["int *"] = btf__add_ptr(b_, types_["int"]);
    for (const char* s :
         {"file", "sock", "msghdr", "page", "iovec", "filename", "open_how", "pt_regs", "folio", "address_space"}) {
      const int st = btf__add_struct(b_, s, 0);
      types_[std::string("struct ") + s + " *"] = btf__add_ptr(b_, st);
    }
  }
  ~BtfBuilder() { btf__free(b_); }

  // Adds `ret name(params...)` using the type names above.
  BtfBuilder& fn(const std::string& name, const std::string& ret, const std::vector<std::string>& params) {
    const int proto = btf__add_func_proto(b_, types_.at(ret));
    for (size_t i = 0; i < params.size(); ++i) {
      btf__add_func_param(b_, ("p" + std::to_string(i)).c_str(), types_.at(params[i]));
    }
    btf__add_func(b_, name.c_str(), BTF_FUNC_GLOBAL, proto);
    return *this;
  }
  // A tracepoint's btf_trace_<name>: a pointer to void (void *ctx, params...).
  BtfBuilder& tracepoint(const std::string& name, const std::vector<std::string>& params = {}) {
    const int proto = btf__add_func_proto(b_, 0);
    btf__add_func_param(b_, "__data", types_.at("void *"));
    for (size_t i = 0; i < params.size(); ++i) {
      btf__add_func_param(b_, ("p" + std::to_string(i)).c_str(), types_.at(params[i]));
    }
    btf__add_typedef(b_, ("btf_trace_" + name).c_str(), btf__add_ptr(b_, proto));
    return *this;
  }
  // enum bpf_func_id with these helpers (one enum: the planner reads the first).
  BtfBuilder& helpers(const std::vector<std::string>& enumerators) {
    btf__add_enum(b_, "bpf_func_id", 4);
    int value = 175;
    for (const auto& e : enumerators) btf__add_enum_value(b_, e.c_str(), value++);
    return *this;
  }
  BtfBuilder& helper(const std::string& enumerator) { return helpers({enumerator}); }
  // A struct with int members of these names.
  BtfBuilder& with_struct(const std::string& name, const std::vector<std::string>& members) {
    btf__add_struct(b_, name.c_str(), static_cast<__u32>(4 * members.size()));
    unsigned bit = 0;
    for (const auto& m : members) {
      btf__add_field(b_, m.c_str(), types_["int"], bit, 0);
      bit += 32;
    }
    return *this;
  }
  // Hands the BTF over (the builder is spent).
  KernelBtf build() {
    // Round-trip through raw data so the result is an ordinary parsed BTF.
    __u32 size = 0;
    const void* raw = btf__raw_data(b_, &size);
    btf* parsed = btf__new(raw, size);
    return KernelBtf::adopt(BtfPtr(parsed));
  }

 private:
  btf* b_;
  std::map<std::string, int> types_;
};

// The hooked functions as a kernel generation declares them.
struct KernelShape {
  bool long_namei = false;       // do_* returning long, user-pointer paths (before 5.15)
  int recvmsg_params = 5;        // 6 before 5.19, 5 until 6.17, 4 on 6.18+
  bool sendpage = false;         // before 6.5
  bool sock_length_tps = false;  // 6.3+
  bool task_pt_regs = false;     // 5.15+
  bool vfs_readv = true;         // false: inlined away
  bool rdonly_cast = false;      // the bpf_rdonly_cast kfunc (6.2+)
  bool bpf_loop = false;         // the bpf_loop helper (5.17+)
  bool io_uring_req = false;     // io_uring_complete with the request, io_kiocb.cqe (5.19+)
  bool folio_tps = false;        // the page cache tracepoints pass folios (5.18+)
};

inline KernelBtf shaped_btf(const KernelShape& k) {
  BtfBuilder b;
  b.fn("vfs_read", "ssize_t", {"struct file *", "char *", "size_t", "long *"})
      .fn("vfs_write", "ssize_t", {"struct file *", "const char *", "size_t", "long *"})
      .fn("vfs_writev", "ssize_t", {"struct file *", "struct iovec *", "ulong", "long *", "rwf_t"});
  if (k.vfs_readv) b.fn("vfs_readv", "ssize_t", {"struct file *", "struct iovec *", "ulong", "long *", "rwf_t"});
  const std::string namei_ret = k.long_namei ? "long" : "int";
  const std::string path = k.long_namei ? "const char *" : "struct filename *";
  b.fn("do_sys_openat2", k.long_namei ? "long" : "int", {"int", "const char *", "struct open_how *"})
      .fn("do_mkdirat", namei_ret, {"int", path, "umode_t"})
      .fn("do_unlinkat", namei_ret, {"int", "struct filename *"})
      .fn("do_rmdir", namei_ret, {"int", path});
  for (const char* f : {"tcp_sendmsg", "udp_sendmsg", "udpv6_sendmsg"}) {
    b.fn(f, "int", {"struct sock *", "struct msghdr *", "size_t"});
  }
  if (k.sendpage) {
    for (const char* f : {"tcp_sendpage", "udp_sendpage"}) {
      b.fn(f, "int", {"struct sock *", "struct page *", "int", "size_t", "int"});
    }
  }
  for (const char* f : {"tcp_recvmsg", "udp_recvmsg", "udpv6_recvmsg"}) {
    std::vector<std::string> p = {"struct sock *", "struct msghdr *", "size_t"};
    if (k.recvmsg_params == 6) p.insert(p.end(), {"int", "int", "int *"});
    if (k.recvmsg_params == 5) p.insert(p.end(), {"int", "int *"});
    if (k.recvmsg_params == 4) p.push_back("int");
    if (k.recvmsg_params == 7) p.insert(p.end(), {"int", "int", "int *", "int"});
    b.fn(f, "int", p);
  }
  if (k.sock_length_tps) b.tracepoint("sock_send_length").tracepoint("sock_recv_length");
  std::vector<std::string> helpers;
  if (k.task_pt_regs) helpers.push_back("BPF_FUNC_task_pt_regs");
  if (k.bpf_loop) helpers.push_back("BPF_FUNC_loop");
  if (!helpers.empty()) b.helpers(helpers);
  for (const char* f : {"__x64_sys_copy_file_range", "__x64_sys_sendfile64", "__x64_sys_splice",
                        "__x64_sys_io_getevents", "__x64_sys_io_pgetevents"}) {
    b.fn(f, "long", {"struct pt_regs *"});
  }
  b.tracepoint("io_uring_complete");
  b.with_struct("io_kiocb",
                k.io_uring_req ? std::vector<std::string>{"opcode", "cqe"} : std::vector<std::string>{"opcode"});
  if (k.rdonly_cast) b.fn("bpf_rdonly_cast", "void *", {"void *", "uint"});
  if (k.folio_tps) {
    b.tracepoint("mm_filemap_add_to_page_cache", {"struct folio *"})
        .tracepoint("writeback_dirty_folio", {"struct folio *", "struct address_space *"});
  } else {
    b.tracepoint("mm_filemap_add_to_page_cache", {"struct page *"});
  }
  b.with_struct("task_struct", {"flags", "in_user_fault"});
  return b.build();
}

}  // namespace cgio::test
