// TSan builds only. librdkafka starts its threads and takes its locks through glibc's C11
// <threads.h> (thrd_create, mtx_lock, cnd_wait), which call glibc's internal pthread
// functions, past ThreadSanitizer's interceptors: TSan then crashes in the first librdkafka
// thread (it has no state for it) and would not see librdkafka's locks. These definitions in
// the test executable take precedence over glibc's for librdkafka and forward to the public
// pthread functions that TSan intercepts. glibc's C11 types are its pthread types.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct Start {
  thrd_start_t function;
  void* argument;
};

void* run(void* opaque) {
  const Start start = *static_cast<Start*>(opaque);
  delete static_cast<Start*>(opaque);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.function(start.argument)));
}

int result_of(int error) {
  if (error == 0) return thrd_success;
  if (error == ETIMEDOUT) return thrd_timedout;
  if (error == EBUSY) return thrd_busy;
  if (error == ENOMEM) return thrd_nomem;
  return thrd_error;
}

pthread_mutex_t* native(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* native(cnd_t* condition) { return reinterpret_cast<pthread_cond_t*>(condition); }

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) Start{function, argument};
  if (start == nullptr) return thrd_nomem;
  const int error = pthread_create(thread, nullptr, &run, start);
  if (error != 0) delete start;
  return result_of(error);
}

int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  const int error = pthread_join(thread, &value);
  if (error == 0 && result != nullptr) {
    *result = static_cast<int>(reinterpret_cast<std::intptr_t>(value));
  }
  return result_of(error);
}

int thrd_detach(thrd_t thread) { return result_of(pthread_detach(thread)); }

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if ((type & mtx_recursive) != 0) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  const int error = pthread_mutex_init(native(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return result_of(error);
}
int mtx_lock(mtx_t* mutex) { return result_of(pthread_mutex_lock(native(mutex))); }
int mtx_trylock(mtx_t* mutex) { return result_of(pthread_mutex_trylock(native(mutex))); }
int mtx_timedlock(mtx_t* mutex, const struct timespec* until) {
  return result_of(pthread_mutex_timedlock(native(mutex), until));
}
int mtx_unlock(mtx_t* mutex) { return result_of(pthread_mutex_unlock(native(mutex))); }
void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy(native(mutex)); }

int cnd_init(cnd_t* condition) { return result_of(pthread_cond_init(native(condition), nullptr)); }
int cnd_signal(cnd_t* condition) { return result_of(pthread_cond_signal(native(condition))); }
int cnd_broadcast(cnd_t* condition) { return result_of(pthread_cond_broadcast(native(condition))); }
int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return result_of(pthread_cond_wait(native(condition), native(mutex)));
}
int cnd_timedwait(cnd_t* condition, mtx_t* mutex, const struct timespec* until) {
  return result_of(pthread_cond_timedwait(native(condition), native(mutex), until));
}
void cnd_destroy(cnd_t* condition) { pthread_cond_destroy(native(condition)); }

}  // extern "C"

// librdkafka itself is not instrumented: TSan sees only the lock calls it makes, not the
// atomics and joins that order them, and reports races between librdkafka's own threads
// (e.g. a rwlock destroyed by rdk:main after its broker threads were joined). Those are
// not this library's. Suppressed: lock calls librdkafka makes directly (called_from_lib) and
// through the forwarders above (only librdkafka calls them).
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:librdkafka.so\n"
         "race:mtx_init\nrace:mtx_lock\nrace:mtx_trylock\nrace:mtx_unlock\nrace:mtx_destroy\n"
         "race:cnd_init\nrace:cnd_wait\nrace:cnd_timedwait\nrace:cnd_destroy\n"
         "race:cnd_signal\nrace:cnd_broadcast\n";
}
