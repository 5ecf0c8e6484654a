// The tokio twins of gocoro's benchmarks: `tokiobench <case>` runs one case and prints
// the same BENCH line as bench/bench.hpp. Each case does the work of its Go twin
// (bench/go/) with tokio's own tools: tasks for goroutines, tokio's mpsc channels (an
// unbuffered Go channel becomes a bounded channel of capacity 1: tokio has no
// rendezvous channel), async-channel where several receivers share one channel (Go's
// channels are multi-consumer, tokio's mpsc is not), tokio::sync's Mutex and RwLock,
// tokio::time, tokio-util's DelayQueue and CancellationToken.
//
// The runtime is tokio's multi-threaded one with a worker per hardware thread, or
// GOMAXPROCS workers when that is set (so bench/run and the scaling runs give all three
// runtimes the same number of threads). As on the other sides, time is measured inside
// the workload, the runtime's start-up excluded.
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, Mutex, Notify, RwLock};

fn maxrss_kb() -> u64 {
    // VmHWM is the peak resident set, getrusage's ru_maxrss on the other sides.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn rss_bytes() -> i64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: i64 = statm.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn report(name: &str, d: Duration, ops: u64) {
    report_mem(name, d, ops, None)
}

fn report_mem(name: &str, d: Duration, ops: u64, mem_bytes_per_op: Option<f64>) {
    let ns = d.as_nanos();
    print!(
        "BENCH name={} ns={} ops={} ns_per_op={:.2} maxrss_kb={}",
        name,
        ns,
        ops,
        ns as f64 / ops as f64,
        maxrss_kb()
    );
    if let Some(m) = mem_bytes_per_op {
        print!(" mem_bytes_per_op={:.1}", m);
    }
    println!();
}

fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("benchmark check failed: {}", what);
        std::process::exit(1);
    }
}

// Go's sync.WaitGroup, which tokio does not have: a count and a Notify whose stored
// permit makes a done() that comes before the wait() harmless.
struct WaitGroup {
    count: AtomicUsize,
    zero: Notify,
}

impl WaitGroup {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(WaitGroup { count: AtomicUsize::new(n), zero: Notify::new() })
    }
    fn done(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.zero.notify_one();
        }
    }
    async fn wait(&self) {
        while self.count.load(Ordering::Acquire) != 0 {
            self.zero.notified().await;
        }
    }
}

// -- spawn --

// 1,000,000 tasks, each signals a wait group.
async fn spawn_wg() {
    const N: usize = 1_000_000;
    let t0 = Instant::now();
    let wg = WaitGroup::new(N);
    for _ in 0..N {
        let wg = wg.clone();
        tokio::spawn(async move { wg.done() });
    }
    wg.wait().await;
    report("spawn_wg/n=1000000", t0.elapsed(), N as u64);
}

// A chain of 1,000,000 tasks, each spawning the next; the last signals.
fn link(n: u64, done: Arc<WaitGroup>) {
    tokio::spawn(async move {
        if n == 0 {
            done.done();
        } else {
            link(n - 1, done);
        }
    });
}

async fn spawn_chain() {
    const N: u64 = 1_000_000;
    let t0 = Instant::now();
    let done = WaitGroup::new(1);
    link(N, done.clone());
    done.wait().await;
    report("spawn_chain/n=1000000", t0.elapsed(), N);
}

// 1,000 tasks, each yielding 1,000 times.
async fn yield_many() {
    const GS: usize = 1000;
    const YIELDS: i64 = 1000;
    let t0 = Instant::now();
    let wg = WaitGroup::new(GS);
    let total = Arc::new(AtomicI64::new(0));
    for _ in 0..GS {
        let (wg, total) = (wg.clone(), total.clone());
        tokio::spawn(async move {
            let mut k = 0;
            while k < YIELDS {
                tokio::task::yield_now().await;
                k += 1;
            }
            total.fetch_add(k, Ordering::Relaxed);
            wg.done();
        });
    }
    wg.wait().await;
    check(total.load(Ordering::Relaxed) == GS as i64 * YIELDS, "every task yielded 1000 times");
    report("yield/g=1000,n=1000", t0.elapsed(), GS as u64 * YIELDS as u64);
}

// -- channels --

// Ping-pong of an integer over two channels, 1,000,000 round trips.
async fn pingpong() {
    const N: i64 = 1_000_000;
    let t0 = Instant::now();
    let (ping_tx, mut ping_rx) = mpsc::channel::<i64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<i64>(1);
    tokio::spawn(async move {
        while let Some(v) = ping_rx.recv().await {
            if pong_tx.send(v + 1).await.is_err() {
                break;
            }
        }
    });
    let mut sum = 0;
    for i in 0..N {
        ping_tx.send(i).await.unwrap();
        sum += pong_rx.recv().await.unwrap() - i;
    }
    drop(ping_tx);
    let d = t0.elapsed();
    check(sum == N, "every reply is the request plus one");
    report("chan_pingpong/n=1000000", d, N as u64);
}

// 4 producers, 4 consumers, one channel of capacity 1024, 10,000,000 items.
async fn prodcons() {
    const N: i64 = 10_000_000;
    const PRODUCERS: i64 = 4;
    const CONSUMERS: usize = 4;
    let t0 = Instant::now();
    let (tx, rx) = async_channel::bounded::<i64>(1024);
    let done = WaitGroup::new(CONSUMERS);
    let total = Arc::new(AtomicI64::new(0));
    for p in 0..PRODUCERS {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut i = p;
            while i < N {
                tx.send(i).await.unwrap();
                i += PRODUCERS;
            }
        });
    }
    drop(tx); // the channel closes when the last producer is done
    for _ in 0..CONSUMERS {
        let (rx, done, total) = (rx.clone(), done.clone(), total.clone());
        tokio::spawn(async move {
            let mut s = 0;
            while let Ok(v) = rx.recv().await {
                s += v;
            }
            total.fetch_add(s, Ordering::Relaxed);
            done.done();
        });
    }
    done.wait().await;
    let d = t0.elapsed();
    check(total.load(Ordering::Relaxed) == N * (N - 1) / 2, "every item received once");
    report("chan_prodcons/p=4,c=4,cap=1024,n=10000000", d, N as u64);
}

// One consumer selecting over 4 channels fed by 4 producers, 1,000,000 items.
async fn select4() {
    const N: i64 = 1_000_000;
    const PRODUCERS: i64 = 4;
    let t0 = Instant::now();
    let mut rxs = Vec::new();
    for p in 0..PRODUCERS {
        let (tx, rx) = mpsc::channel::<i64>(1);
        rxs.push(rx);
        tokio::spawn(async move {
            let mut i = p;
            while i < N {
                tx.send(i).await.unwrap();
                i += PRODUCERS;
            }
        });
    }
    let [mut r0, mut r1, mut r2, mut r3]: [mpsc::Receiver<i64>; 4] = rxs.try_into().unwrap();
    let (mut sum, mut got) = (0i64, 0i64);
    let mut open = [true; 4];
    while open.iter().any(|&o| o) {
        let (idx, v) = tokio::select! {
            v = r0.recv(), if open[0] => (0, v),
            v = r1.recv(), if open[1] => (1, v),
            v = r2.recv(), if open[2] => (2, v),
            v = r3.recv(), if open[3] => (3, v),
        };
        match v {
            Some(v) => {
                sum += v;
                got += 1;
            }
            None => open[idx] = false,
        }
    }
    let d = t0.elapsed();
    check(got == N && sum == N * (N - 1) / 2, "every item received once");
    report("select_4producers/n=1000000", d, N as u64);
}

// 1,000,000 tasks each parked in a receive: bytes of RSS per parked task.
async fn parked() {
    const N: usize = 1_000_000;
    let t0 = Instant::now();
    let before = rss_bytes();
    let (tx, rx) = async_channel::bounded::<i64>(1); // every receiver wakes when it closes
    let started = WaitGroup::new(N);
    let finished = WaitGroup::new(N);
    let woke = Arc::new(AtomicUsize::new(0));
    for _ in 0..N {
        let (rx, started, finished, woke) = (rx.clone(), started.clone(), finished.clone(), woke.clone());
        tokio::spawn(async move {
            started.done();
            if rx.recv().await.is_err() {
                woke.fetch_add(1, Ordering::Relaxed);
            }
            finished.done();
        });
    }
    drop(rx);
    started.wait().await;
    tokio::task::yield_now().await;
    let after = rss_bytes();
    tx.close();
    finished.wait().await;
    let d = t0.elapsed();
    check(woke.load(Ordering::Relaxed) == N, "every task woke from its receive");
    report_mem("chan_parked/n=1000000", d, N as u64, Some((after - before) as f64 / N as f64));
}

// The pipeline sample (generate -> square -> keep even -> sum) with 1,000,000 items.
async fn pipeline() {
    const N: u64 = 1_000_000;
    let t0 = Instant::now();
    let (a_tx, mut a_rx) = mpsc::channel::<u64>(1);
    let (b_tx, mut b_rx) = mpsc::channel::<u64>(1);
    let (c_tx, mut c_rx) = mpsc::channel::<u64>(1);
    tokio::spawn(async move {
        for i in 1..=N {
            a_tx.send(i).await.unwrap();
        }
    });
    tokio::spawn(async move {
        while let Some(v) = a_rx.recv().await {
            b_tx.send(v * v).await.unwrap();
        }
    });
    tokio::spawn(async move {
        while let Some(v) = b_rx.recv().await {
            if v % 2 == 0 {
                c_tx.send(v).await.unwrap();
            }
        }
    });
    let mut sum = 0u64;
    while let Some(v) = c_rx.recv().await {
        sum += v;
    }
    let d = t0.elapsed();
    let expect: u64 = (2..=N).step_by(2).map(|i| i * i).sum();
    check(sum == expect, "the sum of the even squares");
    report("pipeline/n=1000000", d, N);
}

// -- sync --

// 8 tasks x 1,000,000 lock / increment / unlock on one mutex.
async fn mutex_contended() {
    const GS: usize = 8;
    const ITERS: usize = 1_000_000;
    let t0 = Instant::now();
    let counter = Arc::new(Mutex::new(0usize));
    let wg = WaitGroup::new(GS);
    for _ in 0..GS {
        let (counter, wg) = (counter.clone(), wg.clone());
        tokio::spawn(async move {
            for _ in 0..ITERS {
                *counter.lock().await += 1;
            }
            wg.done();
        });
    }
    wg.wait().await;
    let d = t0.elapsed();
    check(*counter.lock().await == GS * ITERS, "no increment lost");
    report("mutex_contended/g=8,n=1000000", d, (GS * ITERS) as u64);
}

// One task, 10,000,000 uncontended lock / increment / unlock.
async fn mutex_uncontended() {
    const ITERS: usize = 10_000_000;
    let t0 = Instant::now();
    let counter = Mutex::new(0usize);
    for _ in 0..ITERS {
        *counter.lock().await += 1;
    }
    let d = t0.elapsed();
    check(*counter.lock().await == ITERS, "every increment counted");
    report("mutex_uncontended/n=10000000", d, ITERS as u64);
}

// 8 tasks x 250,000 operations on an RwLock: 1 write per 100 reads.
async fn rwmutex_read_mostly() {
    const GS: usize = 8;
    const OPS: usize = 250_000;
    let t0 = Instant::now();
    let value = Arc::new(RwLock::new(0usize));
    let reads = Arc::new(AtomicUsize::new(0));
    let wg = WaitGroup::new(GS);
    for _ in 0..GS {
        let (value, reads, wg) = (value.clone(), reads.clone(), wg.clone());
        tokio::spawn(async move {
            let mut local = 0;
            for i in 0..OPS {
                if i % 101 == 0 {
                    *value.write().await += 1;
                } else if *value.read().await != usize::MAX {
                    local += 1;
                }
            }
            reads.fetch_add(local, Ordering::Relaxed);
            wg.done();
        });
    }
    wg.wait().await;
    let d = t0.elapsed();
    let v = *value.read().await;
    check(v == GS * ((OPS + 100) / 101) && reads.load(Ordering::Relaxed) == GS * OPS - v, "all operations counted");
    report("rwmutex_read_mostly/g=8,n=250000", d, (GS * OPS) as u64);
}

// -- time --

// The same pseudo-random sequence as the other sides (a 64-bit LCG, Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }
}

// 100,000 tasks, each sleeping a pseudo-random 1..100 ms. The ideal total is 100 ms.
async fn sleepers() {
    const N: usize = 100_000;
    let mut r = Lcg(42);
    let t0 = Instant::now();
    let wg = WaitGroup::new(N);
    for _ in 0..N {
        let d = Duration::from_millis(1 + (r.next() >> 33) % 100);
        let wg = wg.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            wg.done();
        });
    }
    wg.wait().await;
    let total = t0.elapsed();
    check(total >= Duration::from_millis(100), "the longest sleep is 100 ms");
    report("sleepers/n=100000", total, 1);
}

// 1,000,000 timers started (all pending at once), then stopped: tokio's tool for many
// timers is tokio-util's DelayQueue (a timer wheel behind one tokio sleep).
async fn timers() {
    const N: u64 = 1_000_000;
    let t0 = Instant::now();
    let mut q = tokio_util::time::DelayQueue::with_capacity(N as usize);
    let keys: Vec<_> = (0..N).map(|i| q.insert(i, Duration::from_secs(3600) + Duration::from_micros(i))).collect();
    let mut stopped = 0;
    for k in &keys {
        q.remove(k);
        stopped += 1;
    }
    let d = t0.elapsed();
    check(stopped == N && q.is_empty(), "every timer was pending when stopped");
    report("timers/n=1000000", d, N);
}

// A token tree root -> 100 -> 1,000 each (100,000 leaves), one task waiting on each
// leaf's cancelled(); the time from the root's cancel until every task has exited.
async fn ctx_tree() {
    const MID: usize = 100;
    const LEAVES_PER: usize = 1000;
    const N: usize = MID * LEAVES_PER;
    let root = tokio_util::sync::CancellationToken::new();
    let ready = WaitGroup::new(N);
    let exited = WaitGroup::new(N);
    let mut sample = Vec::new();
    let mut mids = Vec::new();
    for _ in 0..MID {
        let c = root.child_token();
        for l in 0..LEAVES_PER {
            let leaf = c.child_token();
            if l == 0 {
                sample.push(leaf.clone());
            }
            let (ready, exited) = (ready.clone(), exited.clone());
            tokio::spawn(async move {
                let done = leaf.cancelled();
                ready.done();
                done.await;
                exited.done();
            });
        }
        mids.push(c);
    }
    ready.wait().await;
    let t0 = Instant::now();
    root.cancel();
    exited.wait().await;
    let d = t0.elapsed();
    for leaf in &sample {
        check(leaf.is_cancelled(), "leaves are canceled");
    }
    report("ctx_tree/leaves=100000", d, N as u64);
}

// -- net --

// TCP echo on 127.0.0.1: 100 connections x 10,000 sequential 64-byte round trips.
const ECHO_CONNS: usize = 100;
const ECHO_ROUNDS: usize = 10_000;
const ECHO_SIZE: usize = 64;

async fn echo_serve(mut c: tokio::net::TcpStream) {
    let mut buf = [0u8; ECHO_SIZE];
    loop {
        match c.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if c.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
}

async fn accept_loop(l: tokio::net::TcpListener) {
    while let Ok((c, _)) = l.accept().await {
        c.set_nodelay(true).ok(); // Go's default for TCP conns, and gocoro's
        tokio::spawn(echo_serve(c));
    }
}

async fn echo_client(addr: String) {
    let t0 = Instant::now();
    let ok = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..ECHO_CONNS {
        let (addr, ok) = (addr.clone(), ok.clone());
        clients.push(tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(&addr).await.expect("dial");
            c.set_nodelay(true).ok();
            let mut out = [b'x'; ECHO_SIZE];
            let mut inp = [0u8; ECHO_SIZE];
            for r in 0..ECHO_ROUNDS {
                out[0] = r as u8;
                c.write_all(&out).await.expect("write");
                c.read_exact(&mut inp).await.expect("read");
                if inp == out {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let d = t0.elapsed();
    check(ok.load(Ordering::Relaxed) == ECHO_CONNS * ECHO_ROUNDS, "every reply matched");
    report("echo/conns=100,rounds=10000,size=64", d, (ECHO_CONNS * ECHO_ROUNDS) as u64);
}

async fn echo() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let addr = l.local_addr().unwrap().to_string();
    let server = tokio::spawn(accept_loop(l));
    echo_client(addr).await;
    server.abort();
}

// bench/run's crossed runs: serve until stdin closes (Go's client drives it).
async fn echo_server(addr: String) {
    let l = tokio::net::TcpListener::bind(&addr).await.expect("listen");
    let server = tokio::spawn(accept_loop(l));
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await
    .unwrap();
    server.abort();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = std::env::var("GOMAXPROCS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0) {
        rt.worker_threads(n);
    }
    let rt = rt.build().expect("tokio runtime");
    if args.len() == 3 && (args[1] == "echo_server" || args[1] == "echo_client") {
        let addr = args[2].clone();
        if args[1] == "echo_server" {
            rt.block_on(echo_server(addr));
        } else {
            rt.block_on(echo_client(addr));
        }
        return;
    }
    type Case = fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
    let mut cases: HashMap<&str, Case> = HashMap::new();
    cases.insert("spawn_wg", || Box::pin(spawn_wg()));
    cases.insert("spawn_chain", || Box::pin(spawn_chain()));
    cases.insert("yield", || Box::pin(yield_many()));
    cases.insert("pingpong", || Box::pin(pingpong()));
    cases.insert("prodcons", || Box::pin(prodcons()));
    cases.insert("select4", || Box::pin(select4()));
    cases.insert("parked", || Box::pin(parked()));
    cases.insert("pipeline", || Box::pin(pipeline()));
    cases.insert("mutex_contended", || Box::pin(mutex_contended()));
    cases.insert("mutex_uncontended", || Box::pin(mutex_uncontended()));
    // The C++ side of these rows is a floor with no runtime at all; tokio's side is the
    // same workload as the row above it (as Go's is).
    cases.insert("mutex_uncontended_floor", || Box::pin(mutex_uncontended()));
    cases.insert("rwmutex_read_mostly", || Box::pin(rwmutex_read_mostly()));
    cases.insert("sleepers", || Box::pin(sleepers()));
    cases.insert("sleepers_floor", || Box::pin(sleepers()));
    cases.insert("timers", || Box::pin(timers()));
    cases.insert("ctx_tree", || Box::pin(ctx_tree()));
    cases.insert("echo", || Box::pin(echo()));
    match args.get(1).and_then(|c| cases.get(c.as_str())) {
        Some(case) if args.len() == 2 => {
            // The workload runs as a task, as main's goroutine does on the other sides.
            let fut = case();
            rt.block_on(async move { tokio::spawn(fut).await.unwrap() });
        }
        _ => {
            let mut names: Vec<_> = cases.keys().copied().collect();
            names.sort();
            eprintln!("usage: tokiobench <case>\ncases: {:?}", names);
            std::process::exit(2);
        }
    }
}
