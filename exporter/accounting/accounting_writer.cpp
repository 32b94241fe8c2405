#include "accounting/accounting_writer.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "accounting/spool.h"
#include "util/log.h"

namespace cgio {

AccountingWriter::AccountingWriter(std::unique_ptr<RecordSink> sink, Config config, std::vector<RecordLine> spooled)
    : sink_(std::move(sink)), config_(std::move(config)) {
  queue_.assign(std::make_move_iterator(spooled.begin()), std::make_move_iterator(spooled.end()));
  // Removed once the queue is written, whether or not anything was read
  // from it: a spool of no whole record holds nothing to keep.
  spool_exists_ = !config_.spool_path.empty();
  thread_ = std::thread([this] { run(); });
}

AccountingWriter::~AccountingWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (queue_.empty()) return;
  // Still queued: the file kept failing. The spool keeps the records for
  // the next start; without one, each record is logged whole, so an
  // operator can still add it to the file by hand.
  std::string spool_failure = "no spool file";
  if (!config_.spool_path.empty()) {
    std::string lines;
    for (const RecordLine& r : queue_) lines += r.line;
    auto spooled = write_spool(config_.spool_path, lines);
    if (spooled) {
      log::warn("accounting records kept in the spool file; they are written when the exporter starts again",
                {{"spool", config_.spool_path},
                 {"records", std::to_string(queue_.size())},
                 {"last_error", stats_.last_error}});
      return;
    }
    spool_failure = spooled.error().message;
  }
  for (const RecordLine& r : queue_) {
    std::string line = r.line;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    log::error("accounting record not written before exit",
               {{"cgroup", r.unit}, {"last_error", stats_.last_error}, {"spool", spool_failure}, {"record", line}});
  }
}

bool AccountingWriter::submit(RecordLine record) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() + in_flight_ < config_.max_pending) {
      queue_.push_back(std::move(record));
      spool_stale_ = true;
      wake_.notify_one();
      return true;
    }
    ++stats_.dropped;
  }
  std::string line = std::move(record.line);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  log::error("accounting record dropped: " + std::to_string(config_.max_pending) +
                 " records are waiting for the accounting file already",
             {{"cgroup", record.unit}, {"record", line}});
  return false;
}

AccountingWriter::Stats AccountingWriter::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.pending = queue_.size() + in_flight_;
  return s;
}

bool AccountingWriter::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && in_flight_ == 0; });
}

void AccountingWriter::run() {
  std::unique_lock lock(mutex_);
  auto delay = config_.retry_first;
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything is written
    if (write_batch(lock)) {
      delay = config_.retry_first;
      // Everything is in the file: the spool holds nothing more.
      if (queue_.empty() && spool_exists_) update_spool(lock);
      continue;
    }
    if (spool_stale_ && !config_.spool_path.empty()) update_spool(lock);
    // After a stop, the attempt that just failed was the last one.
    if (stop_) break;
    wake_.wait_for(lock, delay, [this] { return stop_; });
    delay = std::min(delay * 2, config_.retry_max);
  }
}

bool AccountingWriter::write_batch(std::unique_lock<std::mutex>& lock) {
  const auto n = static_cast<std::ptrdiff_t>(std::min(queue_.size(), config_.max_batch));
  std::vector<RecordLine> batch(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
  queue_.erase(queue_.begin(), queue_.begin() + n);
  in_flight_ = batch.size();
  lock.unlock();

  // A unit recorded before a restart (the file's scan found it) is not
  // written again.
  std::erase_if(batch, [this](const RecordLine& r) {
    if (!sink_->written(r)) return false;
    log::debug("unit already has an accounting record", {{"cgroup", r.unit}});
    return true;
  });
  auto done = sink_->append(batch);
  std::vector<RecordLine> retry;
  size_t written = batch.size();
  if (!done) {
    for (RecordLine& r : batch) {
      if (!sink_->written(r)) retry.push_back(std::move(r));
    }
    written -= retry.size();
  }

  lock.lock();
  in_flight_ = 0;
  stats_.written += written;
  if (!done) {
    ++stats_.write_errors;
    const bool new_error = !failing_ || stats_.last_error != done.error().message;
    stats_.last_error = done.error().message;
    stats_.last_error_at = std::chrono::system_clock::now();
    failing_ = true;
    queue_.insert(queue_.begin(), std::make_move_iterator(retry.begin()), std::make_move_iterator(retry.end()));
    if (new_error) {
      log::error("cannot write accounting records; they stay queued and are retried until written",
                 {{"err", done.error()}, {"pending", std::to_string(queue_.size())}});
    }
  } else if (failing_) {
    failing_ = false;
    log::info("accounting records are written again", {{"pending", std::to_string(queue_.size())}});
  }
  if (queue_.empty()) idle_.notify_all();
  return done.ok();
}

void AccountingWriter::update_spool(std::unique_lock<std::mutex>& lock) {
  // Only pointers are taken under the lock, so submit() (the cgroup event
  // thread) never waits for the copy of a long queue. They stay valid while
  // unlocked: submit() only appends to the deque, which keeps references,
  // and only this thread removes from it.
  std::vector<const std::string*> queued;
  queued.reserve(queue_.size());
  for (const RecordLine& r : queue_) queued.push_back(&r.line);
  spool_stale_ = false;
  lock.unlock();
  std::string lines;
  for (const std::string* l : queued) lines += *l;
  const bool empty = lines.empty();
  auto done = write_spool(config_.spool_path, lines);
  lock.lock();
  if (done) {
    spool_exists_ = !empty;
    spool_error_.clear();
    return;
  }
  spool_exists_ = true;
  spool_stale_ = true;  // tried again after the next failed attempt
  if (spool_error_ != done.error().message) {
    spool_error_ = done.error().message;
    log::error("cannot update the accounting spool; records queued in memory are lost if the exporter stops now",
               {{"err", done.error()}, {"pending", std::to_string(queue_.size())}});
  }
}

}  // namespace cgio
