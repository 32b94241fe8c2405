// The accounting file's writer: a thread of its own between the units that
// end (submitted by the cgroup event reader, which must never wait for a
// disk) and the file. Records queue in memory; each pass writes every
// record queued so far with one write(2) and one fsync (group commit), so
// a churn of thousands of units per second costs a few fsyncs a second. A
// record the file refuses (disk full, read-only or removed filesystem,
// EIO) stays queued and is retried with a growing delay until it is
// written; only a queue past its bound loses records, each one counted and
// logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "accounting/accounting_log.h"

namespace cgio {

class AccountingWriter {
 public:
  struct Config {
    // Records held (queued or being written) at most; one more is dropped.
    // A record is 1-3 KiB: the default bounds the queue near 100 MiB.
    size_t max_pending = 50000;
    // Records per write(2) and fsync.
    size_t max_batch = 4096;
    // Delay before the first retry after an error; doubles up to retry_max.
    std::chrono::milliseconds retry_first{100};
    std::chrono::milliseconds retry_max{5000};
    // Where records not yet written are kept across a restart
    // (accounting/spool.h): rewritten while the file fails, at exit when
    // records are left, removed once all are written. Empty: none.
    std::string spool_path;
  };

  struct Stats {
    uint64_t written = 0;       // records in the file since start
    uint64_t dropped = 0;       // records lost: the queue was full
    uint64_t write_errors = 0;  // failed attempts (each retried)
    size_t pending = 0;         // queued or being written
    std::string last_error;     // empty: none since start
    std::chrono::system_clock::time_point last_error_at{};
  };

  // `spooled`: the spool's records from before a restart, written first.
  AccountingWriter(std::unique_ptr<RecordSink> sink, Config config, std::vector<RecordLine> spooled = {});
  // Writes what is queued (one last attempt if the file was failing); what
  // is left goes to the spool, or is logged record by record when there is
  // none or it cannot be written.
  ~AccountingWriter();
  AccountingWriter(const AccountingWriter&) = delete;
  AccountingWriter& operator=(const AccountingWriter&) = delete;

  // Queues one record; never waits for the file. False when the queue is
  // full and the record was dropped (counted, logged).
  bool submit(RecordLine record);

  Stats stats() const;

  // Waits until nothing is pending or `timeout` passed; true when idle.
  bool wait_idle(std::chrono::milliseconds timeout) const;

 private:
  void run();
  // One group commit of the queue's head; false when it failed.
  bool write_batch(std::unique_lock<std::mutex>& lock);
  // Makes the spool hold the queue (called with the lock held, which it
  // releases while writing). Logs a failure once per distinct error.
  void update_spool(std::unique_lock<std::mutex>& lock);

  std::unique_ptr<RecordSink> sink_;  // used by the writer thread only
  const Config config_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;          // a record arrived, or stop
  mutable std::condition_variable idle_;  // the queue emptied
  std::deque<RecordLine> queue_;
  size_t in_flight_ = 0;  // taken from the queue, being written
  bool failing_ = false;  // the last attempt failed
  bool stop_ = false;
  bool spool_stale_ = false;   // the queue changed since the spool was written
  bool spool_exists_ = false;  // a spool file may be there
  std::string spool_error_;    // the last spool failure logged
  Stats stats_;
  std::thread thread_;
};

}  // namespace cgio
