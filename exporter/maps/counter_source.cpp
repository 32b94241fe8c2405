#include "maps/counter_source.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>

namespace cgio {

void sum_percpu(std::span<const uint64_t> percpu, size_t ncpus, std::span<uint64_t> out) {
  if (ncpus == 0) return;
  const size_t stride = percpu.size() / ncpus;
  const size_t fields = std::min(stride, out.size());
  for (size_t cpu = 0; cpu < ncpus; ++cpu) {
    const uint64_t* v = percpu.data() + cpu * stride;
    for (size_t f = 0; f < fields; ++f) out[f] += v[f];
  }
}

PerCpuHashSource::PerCpuHashSource(int map_fd, size_t fields, unsigned possible_cpus, bool use_batch,
                                   bool two_part_keys, uint32_t batch_entries)
    : fd_(map_fd), fields_(fields), ncpus_(possible_cpus), key_words_(two_part_keys ? 2 : 1), batch_(use_batch) {
  // Keep one batch's values around 256 KiB whatever the CPU count: the
  // buffers live as long as the exporter, and a few more syscalls per
  // scrape cost less than megabytes of resident memory.
  const size_t per_entry = fields_ * sizeof(uint64_t) * ncpus_;
  batch_entries_ = batch_entries != 0 ? batch_entries
                                      : static_cast<uint32_t>(std::clamp<size_t>((256u << 10) / per_entry, 64, 4096));
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd_, &info, &len) == 0) capacity_ = info.max_entries;
}

void PerCpuHashSource::append(CounterSnapshot& out, const uint64_t* key, const uint64_t* percpu) const {
  out.keys.push_back(key[0]);
  // struct cgio_mount_key: {__u64 cgroup_id; __u32 mount; __u32 pad}
  if (key_words_ == 2) out.subs.push_back(static_cast<uint32_t>(key[1] & 0xffffffffu));
  const size_t at = out.sums.size();
  out.sums.resize(at + fields_, 0);
  sum_percpu({percpu, fields_ * ncpus_}, ncpus_, {out.sums.data() + at, fields_});
}

Result<void> PerCpuHashSource::read(CounterSnapshot& out) {
  std::lock_guard lock(mutex_);
  out.fields = fields_;
  out.keys.clear();
  out.subs.clear();
  out.sums.clear();
  if (batch_) {
    auto r = read_batched(out);
    if (r || batch_) return r;
    out.keys.clear();
    out.subs.clear();
    out.sums.clear();
  }
  return read_by_key(out);
}

Result<void> PerCpuHashSource::read_batched(CounterSnapshot& out) {
  uint64_t in_token = 0, out_token = 0;
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  while (true) {
    key_buf_.resize(static_cast<size_t>(batch_entries_) * key_words_);
    value_buf_.resize(static_cast<size_t>(batch_entries_) * fields_ * ncpus_);
    uint32_t count = batch_entries_;
    const int rc = bpf_map_lookup_batch(fd_, first ? nullptr : &in_token, &out_token, key_buf_.data(),
                                        value_buf_.data(), &count, &opts);
    const int err = rc < 0 ? errno : 0;
    if (rc < 0 && err == ENOSPC && count == 0) {
      // A hash bucket holds more entries than the batch: grow and retry.
      batch_entries_ *= 2;
      continue;
    }
    if (rc < 0 && err != ENOENT) {
      if (first && (err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP || err == 524 /*ENOTSUPP*/)) {
        batch_ = false;  // the kernel cannot batch this map: iterate instead
        return Error{"batch lookup unsupported"};
      }
      return errno_error("BPF_MAP_LOOKUP_BATCH", err);
    }
    for (uint32_t i = 0; i < count; ++i) {
      append(out, key_buf_.data() + static_cast<size_t>(i) * key_words_,
             value_buf_.data() + static_cast<size_t>(i) * fields_ * ncpus_);
    }
    if (rc < 0) return {};  // ENOENT: that was the last batch
    in_token = out_token;
    first = false;
  }
}

Result<void> PerCpuHashSource::read_by_key(CounterSnapshot& out) {
  value_buf_.resize(fields_ * ncpus_);
  uint64_t key[2] = {0, 0}, next[2] = {0, 0};
  const uint64_t* prev = nullptr;
  while (bpf_map_get_next_key(fd_, prev, next) == 0) {
    if (bpf_map_lookup_elem(fd_, next, value_buf_.data()) == 0) {
      append(out, next, value_buf_.data());
    } else if (errno != ENOENT) {  // ENOENT: deleted since get_next_key
      return errno_error("BPF_MAP_LOOKUP_ELEM", errno);
    }
    key[0] = next[0];
    key[1] = next[1];
    prev = key;
  }
  if (errno != ENOENT) return errno_error("BPF_MAP_GET_NEXT_KEY", errno);
  return {};
}

Result<std::vector<uint64_t>> read_percpu_array(int map_fd, uint32_t entries, unsigned possible_cpus) {
  std::vector<uint64_t> sums(entries, 0);
  std::vector<uint64_t> percpu(possible_cpus);
  for (uint32_t i = 0; i < entries; ++i) {
    if (bpf_map_lookup_elem(map_fd, &i, percpu.data()) != 0) {
      return errno_error("BPF_MAP_LOOKUP_ELEM", errno);
    }
    sum_percpu(percpu, possible_cpus, {&sums[i], 1});
  }
  return sums;
}

}  // namespace cgio
