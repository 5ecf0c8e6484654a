/* select against close (lib/select.cpp, lib/chan.cpp) in Promela, for Spin: a select
 * whose two receive cases name one channel (the case that found the bug), a second
 * select on the same channel, and a goroutine that closes it.
 *
 * Checked: each select completes exactly once (one winner of its CAS, readied once);
 * nothing reads a select's case table after its frame is gone (the frame dies when the
 * resumed select returns); every goroutine finishes (no select parked for good).
 *
 * A select that parks runs in two places: its worker, which releases the channel locks
 * after the goroutine has unwound (unlock_all, the park's unlock function), and, once
 * readied, whichever worker resumes it: finish() locks again, dequeues its leftover
 * waiters and unlocks, and then the frame is destroyed.
 *
 * -DOLD: unlock_all as it was before 422937e: it read the next table entry after
 * unlocking, so with one channel listed twice it read the table after the only unlock,
 * when a closer could already have woken the select and another worker finished it.
 * Spin finds it (scripts/model-check).
 *
 * Line by line, the code each part models:
 *   lock; poll pass; enqueue  select.cpp start() steps 2, 3, 5
 *   unlock_all                select.cpp unlock_all (the look-ahead)
 *   closer                    chan.cpp close(): dequeue every waiter that wins its CAS,
 *                             unlock, ready_all
 *   resumed                   select.cpp finish(): lock_all, dequeue_locked, unlock_all
 */
#define S 2           /* selects */
#define CASES 2       /* cases per select, both on the one channel */

bit chlock = 0;
bit closed = 0;
byte queued[S];       /* a select's waiters still in the channel's queue */
short winner[S];      /* the select_state CAS: -1 until someone wins */
bit readied[S];
bit frame_alive[S];
byte completions[S];

inline lock() { atomic { chlock == 0 -> chlock = 1 } }
inline unlock() { chlock = 0 }
inline read_table(s) { assert(frame_alive[s]) }

/* The worker's release of the locks after the park: cases in reverse lock order, one
 * unlock per distinct channel (here all entries are the one channel). */
inline unlock_all(s) {
  byte k = CASES;
#ifdef OLD
  /* for (k = n; k-- > 0;) { c = table[k]; if (c != last) unlock(c); last = c; } */
  bit unlocked = 0;
  do
  :: k > 0 ->
     k--;
     read_table(s);                      /* c = cases_[order_[n_ + k]].c */
     if :: !unlocked -> unlock(); unlocked = 1 :: else -> skip fi
  :: else -> break
  od
#else
  /* c = table[k-1]; loop { next = k > 0 ? table[k-1] : null; if (c != next) unlock(c);
   * if (k == 0) return; c = next; --k } */
  k--;
  read_table(s);                         /* c */
  do
  :: k > 0 -> read_table(s); k--         /* next: the same channel, no unlock */
  :: k == 0 -> unlock(); break           /* next is null: the one unlock, and nothing after */
  od
#endif
}

/* The goroutine, once readied, on whichever worker resumes it: finish(). */
proctype resumed(byte s) {
  readied[s] == 1;
  lock();
  queued[s] = 0;                         /* dequeue_locked: its leftover waiters */
  unlock();
  assert(winner[s] >= 0);
  completions[s]++;
  assert(completions[s] == 1);
  frame_alive[s] = 0                     /* the select returns: its frame is gone */
}

/* The goroutine's start(), then its worker's half of the park. */
proctype selector(byte s) {
  frame_alive[s] = 1;
  lock();
  if
  :: closed ->                           /* poll pass: a closed channel is ready */
     unlock();
     completions[s]++;
     frame_alive[s] = 0
  :: else ->
     queued[s] = CASES;                  /* enqueue pass: one waiter per case */
     run resumed(s);                     /* parked: from now on a waker may ready it */
     unlock_all(s)                       /* the worker, after the goroutine unwound */
  fi
}

proctype closer() {
  byte s;
  byte won[S];
  lock();
  closed = 1;
  s = 0;
  do
  :: s < S ->
     if
     :: queued[s] > 0 ->
        /* dequeue: the first waiter wins the CAS, the rest lose it and are skipped */
        atomic { if :: winner[s] == -1 -> winner[s] = 0; won[s] = 1 :: else -> skip fi };
        queued[s] = 0
     :: else -> skip
     fi;
     s++
  :: else -> break
  od;
  unlock();
  s = 0;
  do                                     /* ready_all, after unlocking */
  :: s < S -> if :: won[s] -> assert(!readied[s]); readied[s] = 1 :: else -> skip fi; s++
  :: else -> break
  od
}

init {
  winner[0] = -1;
  winner[1] = -1;
  atomic {
    run selector(0);
    run selector(1);
    run closer()
  }
}
