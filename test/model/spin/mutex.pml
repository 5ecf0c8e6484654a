/* go::mutex (lib/sync/mutex.cpp) in Promela, for Spin: normal mode with barging, and
 * starvation mode's handoff. Three goroutines lock and unlock twice each.
 *
 * Checked: mutual exclusion (assert in the critical section), the locked bit never
 * counts past one (the handoff's fetch_add never meets a barger's lock), and every
 * goroutine finishes (Spin's invalid end states: a waiter parked for good is a lost
 * wakeup).
 *
 * One atomic step per RMW of state_ (the code's CAS loops retry until one succeeds,
 * which is that step); lk is the spinlock lock_ that guards the queue. The 1 ms
 * starvation threshold is a nondeterministic choice. The goroutine's park releases lk
 * after it is queued (park_on); ready() is ready[w] = 1.
 *
 * -DOLD: unlock_slow as it was before 461fafd: it decided between handoff and wake on a
 * fresh load of `starving`, not on the state its own unlock left; a waiter that set
 * `starving` after that unlock, seeing a barging goroutine holding the mutex, got the
 * mutex handed over while the barger held it. Spin finds it (scripts/model-check).
 *
 * Line by line, the code each part models:
 *   lock_fast      mutex.hpp lock_awaiter::await_ready (CAS 0 -> locked)
 *   acquire_or_park mutex.cpp acquire_or_park (the CAS loop, then park_on)
 *   after the park  mutex.cpp lock_slow (handoff: maybe clear starving; else go again, lifo)
 *   unlock         mutex.hpp unlock (fetch_sub locked; rest != 0 -> unlock_slow)
 *   unlock_slow    mutex.cpp unlock_slow
 */
#define N 3

byte locked = 0;      /* the locked bit, as a count so that a double lock shows */
bit starving = 0;
byte waiters = 0;
bit lk = 0;           /* lock_ */
byte q[N];            /* waiters_, FIFO */
byte qlen = 0;
bit handoff[N];
bit readied[N];
byte in_cs = 0;

inline spin_lock() { atomic { lk == 0 -> lk = 1 } }
inline spin_unlock() { lk = 0 }

inline push(me, front) {
  if
  :: front ->
     byte i = qlen;
     do
     :: i > 0 -> q[i] = q[i - 1]; i--
     :: else -> break
     od;
     q[0] = me
  :: else -> q[qlen] = me
  fi;
  qlen++
}

inline pop(w) {
  if
  :: qlen == 0 -> w = N
  :: else ->
     w = q[0];
     byte j = 0;
     do
     :: j + 1 < qlen -> q[j] = q[j + 1]; j++
     :: else -> break
     od;
     qlen--
  fi
}

inline unlock_slow(rest_starving) {
  spin_lock();
  pop(w);
#ifdef OLD
  if
  :: w == N -> skip
  :: w != N && starving -> handoff[w] = 1; atomic { locked++; waiters-- }
  :: w != N && !starving -> waiters--
  fi;
#else
  if
  :: w == N -> if :: rest_starving -> starving = 0 :: else -> skip fi
  :: w != N && rest_starving -> handoff[w] = 1; atomic { locked++; waiters-- }
  :: w != N && !rest_starving -> waiters--
  fi;
#endif
  assert(locked <= 1);
  spin_unlock();
  if :: w != N -> readied[w] = 1 :: else -> skip fi
}

proctype goroutine(byte me) {
  byte rounds = 0;
  bit starve, lifo, got, waited_long, rest_starving;
  byte w;
again:
  /* lock_fast */
  atomic {
    if
    :: locked == 0 && starving == 0 && waiters == 0 -> locked = 1; got = 1
    :: else -> got = 0
    fi
  }
  if :: got -> goto acquired :: else -> skip fi;
  starve = 0;
  lifo = 0;
turn:
  /* acquire_or_park */
  spin_lock();
  atomic {
    if
    :: locked == 0 && starving == 0 -> locked = 1; got = 1
    :: else ->
       waiters++;
       if :: starve && locked > 0 -> starving = 1 :: else -> skip fi;
       got = 0
    fi
  }
  if
  :: got -> spin_unlock(); goto acquired
  :: else -> skip
  fi;
  handoff[me] = 0;
  push(me, lifo);
  spin_unlock();            /* park: the worker releases lock_ once we have unwound */
  readied[me] == 1;         /* parked until ready() */
  readied[me] = 0;
  if :: waited_long = 1 :: waited_long = 0 fi;   /* over the threshold, or not */
  if
  :: handoff[me] ->
     if :: !waited_long || waiters == 0 -> starving = 0 :: else -> skip fi;
     goto acquired
  :: else ->
     starve = starve || waited_long;
     lifo = 1;
     goto turn
  fi;
acquired:
  in_cs++;
  assert(in_cs == 1 && locked == 1);
  in_cs--;
  /* unlock */
  atomic {
    assert(locked == 1);
    locked = 0;
    rest_starving = starving;
    got = (starving || waiters > 0)
  }
  if :: got -> unlock_slow(rest_starving) :: else -> skip fi;
  rounds++;
  if :: rounds < 2 -> goto again :: else -> skip fi
}

init {
  atomic {
    run goroutine(0);
    run goroutine(1);
    run goroutine(2)
  }
}
