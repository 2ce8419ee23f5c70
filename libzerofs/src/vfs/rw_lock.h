// RwLock: a reader-writer lock that prefers writers.
//
// std::shared_mutex on glibc prefers readers: under a steady stream of overlapping reads
// (NBD or NFS clients reading on many threads) a namespace change could wait forever. This
// lock lets a waiting writer go first, so readers must not take it twice on one thread
// (a second shared acquisition would queue behind the waiting writer). It meets the
// SharedMutex requirements, so std::unique_lock and std::shared_lock work with it.
//
// Thread-safety: it is the synchronization.
#pragma once

#include <pthread.h>

#include <cstdlib>

namespace zerofs::vfs {

class RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (pthread_rwlock_init(&lock_, &attr) != 0) std::abort();
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock() { Check(pthread_rwlock_wrlock(&lock_)); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { Check(pthread_rwlock_unlock(&lock_)); }
  void lock_shared() { Check(pthread_rwlock_rdlock(&lock_)); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { Check(pthread_rwlock_unlock(&lock_)); }

 private:
  // Failing to lock is a programmer error (a deadlock detected, a lock not held).
  static void Check(int rc) {
    if (rc != 0) std::abort();
  }
  pthread_rwlock_t lock_;
};

}  // namespace zerofs::vfs
