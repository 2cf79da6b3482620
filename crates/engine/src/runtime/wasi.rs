//! WASI preview 1 (`wasi_snapshot_preview1`, and `wasi_unstable`): the functions a WASI program
//! imports, as host functions that wasm calls directly (through their exit trampolines, never
//! through JS). A [`Wasi`] holds the program's state: its arguments, environment, file
//! descriptor table and the linear memory it was bound to (node:wasi's `start`/`initialize`
//! binds the instance's exported `memory`). Every pointer and length the program passes is
//! checked against the memory's current length before any byte is read or written ([`Mem`]).
//!
//! It serves all of preview 1 but sockets (ENOTSOCK) and proc_raise (ENOSYS): args, environ,
//! clocks, random, proc_exit, fds (stdio, files, directories) and the filesystem beneath the
//! preopened directories only (`mod fs`). The program has no ambient authority: it reaches only
//! the three stdio host fds and the directories it was given.
//!
//! Calls that block (poll_oneoff's waits, reads and writes on pipes and terminals) wait in
//! slices that look for interrupts (`interrupts::blocking_check`): a Sandbox deadline, V8's
//! termination of the thread or the process's exit stops the program within a slice, as they
//! stop running wasm.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};

use wasmparser::{FuncType, ValType};

use super::func::{HostFunction, VMHostFuncContext};
use super::memory::LinearMemory;
use super::signatures;
use super::trampolines::Trampolines;

/// WASI errno values (preview 1, the same in `wasi_unstable`).
pub mod errno {
    pub const SUCCESS: u32 = 0;
    pub const AGAIN: u32 = 6;
    pub const BADF: u32 = 8;
    pub const FAULT: u32 = 21;
    pub const INTR: u32 = 27;
    pub const INVAL: u32 = 28;
    pub const IO: u32 = 29;
    pub const ISDIR: u32 = 31;
    pub const NOSPC: u32 = 51;
    pub const NOSYS: u32 = 52;
    pub const NOTSOCK: u32 = 57;
    pub const NOTSUP: u32 = 58;
    pub const PERM: u32 = 63;
    pub const PIPE: u32 = 64;
    pub const SPIPE: u32 = 70;
    pub const NOTCAPABLE: u32 = 76;
    pub const ACCES: u32 = 2;
    pub const NOENT: u32 = 44;
    pub const NOTDIR: u32 = 54;
    /// Not a WASI errno: the call was interrupted (its deadline passed, V8 is terminating the
    /// thread, the process is exiting) while it blocked, and must stop the program
    /// (`interrupts::host_call_interrupted`).
    pub const STOPPED: u32 = u32::MAX;
}

/// WASI file types.
mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
}

/// Rights (preview 1 bit numbers).
mod rights {
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    const fn bits(list: &[u32]) -> u64 {
        let mut r = 0;
        let mut i = 0;
        while i < list.len() {
            r |= 1 << list[i];
            i += 1;
        }
        r
    }
    /// What a regular file's fd may do.
    pub const FILE: u64 = bits(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 21, 22, 23, 27]);
    /// What a directory's fd may do.
    pub const DIR: u64 = bits(&[3, 4, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27]);
    pub const STDIO: u64 = FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE;
}

/// Linear memory as the WASI functions see it: every access bounds-checked (EFAULT otherwise).
pub struct Mem<'a>(&'a mut [u8]);

impl<'a> Mem<'a> {
    pub fn new(bytes: &'a mut [u8]) -> Mem<'a> {
        Mem(bytes)
    }

    fn range(&self, ptr: u32, len: u64) -> Result<std::ops::Range<usize>, u32> {
        let start = ptr as u64;
        let end = start.checked_add(len).ok_or(errno::FAULT)?;
        if end > self.0.len() as u64 {
            return Err(errno::FAULT);
        }
        Ok(start as usize..end as usize)
    }

    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], u32> {
        let r = self.range(ptr, len as u64)?;
        Ok(&self.0[r])
    }

    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], u32> {
        let r = self.range(ptr, len as u64)?;
        Ok(&mut self.0[r])
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, u32> {
        let b = self.slice(ptr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn read_u64(&self, ptr: u32) -> Result<u64, u32> {
        let b = self.slice(ptr, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn write_bytes(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), u32> {
        let len = u32::try_from(bytes.len()).map_err(|_| errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), u32> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), u32> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// The (pointer, length) pairs of an iovec array, each checked.
    fn iovecs(&self, iovs: u32, count: u32) -> Result<Vec<(u32, u32)>, u32> {
        let table = self.slice(iovs, count.checked_mul(8).ok_or(errno::FAULT)?)?;
        let mut out = Vec::with_capacity(count as usize);
        for chunk in table.chunks_exact(8) {
            let ptr = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            self.range(ptr, len as u64)?;
            out.push((ptr, len));
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// One of the host fds given as stdin/stdout/stderr (not closed by WASI).
    Stdio,
    File,
    Dir,
}

/// An open WASI file descriptor: a host fd this state owns (but stdio's), what it is, and its
/// rights.
#[derive(Clone, Debug)]
struct Fd {
    host: i32,
    kind: Kind,
    /// For a preopened directory: the name the program sees.
    preopen: Option<Vec<u8>>,
    rights: u64,
    inheriting: u64,
    /// The fdflags the program set (APPEND 1, DSYNC 2, NONBLOCK 4, RSYNC 8, SYNC 16).
    flags: u16,
}

/// The state of one WASI program.
pub struct WasiState {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    fds: Vec<Option<Fd>>,
    memory: Option<Arc<LinearMemory>>,
    /// The code proc_exit was called with, until the binding takes it.
    exit: Option<u32>,
    unstable: bool,
}

/// A WASI program's state, shared by its host functions.
pub struct Wasi {
    state: Mutex<WasiState>,
}

impl Wasi {
    /// `args` and `env` (`KEY=VALUE` strings) as the program will see them; `stdio` the host fds
    /// of its fds 0, 1 and 2. `unstable`: the `wasi_unstable` flavour (whence values differ).
    pub fn new(args: Vec<String>, env: Vec<String>, stdio: [i32; 3], unstable: bool) -> Arc<Wasi> {
        let fds = stdio
            .iter()
            .map(|&host| Some(Fd { host, kind: Kind::Stdio, preopen: None, rights: rights::STDIO, inheriting: 0, flags: 0 }))
            .collect();
        Arc::new(Wasi {
            state: Mutex::new(WasiState {
                args: args.into_iter().map(String::into_bytes).collect(),
                env: env.into_iter().map(String::into_bytes).collect(),
                fds,
                memory: None,
                exit: None,
                unstable,
            }),
        })
    }

    /// Adds a preopened directory: the program sees host directory `host` as `guest`, and
    /// nothing outside it (see [`open_beneath`]).
    pub fn preopen(&self, guest: &str, host: &str) -> Result<(), String> {
        let path = std::ffi::CString::new(host).map_err(|_| format!("{host}: path contains a NUL"))?;
        // SAFETY: a NUL-terminated path; the fd returned is ours.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(format!("{host}: {}", std::io::Error::last_os_error()));
        }
        self.state().fds.push(Some(Fd {
            host: fd,
            kind: Kind::Dir,
            preopen: Some(guest.as_bytes().to_vec()),
            rights: rights::DIR,
            inheriting: rights::DIR | rights::FILE,
            flags: 0,
        }));
        Ok(())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WasiState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Binds the linear memory the functions read and write (the instance's exported `memory`).
    pub fn set_memory(&self, memory: Option<Arc<LinearMemory>>) {
        self.state().memory = memory;
    }

    /// The code of a proc_exit that ended the last call, once.
    pub fn take_exit(&self) -> Option<u32> {
        self.state().exit.take()
    }
}

/// `(name, params, has_result)`: params are `i` (i32) or `I` (i64); every function but
/// proc_exit returns an errno (i32).
const FUNCTIONS: &[(&str, &str, bool)] = &[
    ("args_get", "ii", true),
    ("args_sizes_get", "ii", true),
    ("environ_get", "ii", true),
    ("environ_sizes_get", "ii", true),
    ("clock_res_get", "ii", true),
    ("clock_time_get", "iIi", true),
    ("fd_advise", "iIIi", true),
    ("fd_allocate", "iII", true),
    ("fd_close", "i", true),
    ("fd_datasync", "i", true),
    ("fd_fdstat_get", "ii", true),
    ("fd_fdstat_set_flags", "ii", true),
    ("fd_fdstat_set_rights", "iII", true),
    ("fd_filestat_get", "ii", true),
    ("fd_filestat_set_size", "iI", true),
    ("fd_filestat_set_times", "iIIi", true),
    ("fd_pread", "iiiIi", true),
    ("fd_prestat_get", "ii", true),
    ("fd_prestat_dir_name", "iii", true),
    ("fd_pwrite", "iiiIi", true),
    ("fd_read", "iiii", true),
    ("fd_readdir", "iiiIi", true),
    ("fd_renumber", "ii", true),
    ("fd_seek", "iIii", true),
    ("fd_sync", "i", true),
    ("fd_tell", "ii", true),
    ("fd_write", "iiii", true),
    ("path_create_directory", "iii", true),
    ("path_filestat_get", "iiiii", true),
    ("path_filestat_set_times", "iiiiIIi", true),
    ("path_link", "iiiiiii", true),
    ("path_open", "iiiiiIIii", true),
    ("path_readlink", "iiiiii", true),
    ("path_remove_directory", "iii", true),
    ("path_rename", "iiiiii", true),
    ("path_symlink", "iiiii", true),
    ("path_unlink_file", "iii", true),
    ("poll_oneoff", "iiii", true),
    ("proc_exit", "i", false),
    ("proc_raise", "i", true),
    ("sched_yield", "", true),
    ("random_get", "ii", true),
    ("sock_accept", "iii", true),
    ("sock_recv", "iiiiii", true),
    ("sock_send", "iiiii", true),
    ("sock_shutdown", "ii", true),
];

fn func_type(params: &str, has_result: bool) -> FuncType {
    let params: Vec<ValType> = params.chars().map(|c| if c == 'I' { ValType::I64 } else { ValType::I32 }).collect();
    let results: &[ValType] = if has_result { &[ValType::I32] } else { &[] };
    FuncType::new(params, results.iter().copied())
}

/// What a host function of a WASI import carries.
struct ImportData {
    wasi: Arc<Wasi>,
    index: usize,
}

/// # Safety
/// `data` must be an `ImportData` box made by [`host_functions`], dropped once.
unsafe fn drop_import_data(data: *mut c_void) {
    // SAFETY: the box `host_functions` made, dropped once by the engine.
    drop(unsafe { Box::from_raw(data as *mut ImportData) });
}

/// The host functions of the WASI imports, by name, each of the type WASI gives it.
/// `trampolines` gives the trampolines of a signature (the compiler's).
pub fn host_functions(
    wasi: &Arc<Wasi>,
    trampolines: impl Fn(&FuncType) -> Result<Arc<Trampolines>, String>,
) -> Result<Vec<(&'static str, Arc<HostFunction>)>, String> {
    let mut out = Vec::with_capacity(FUNCTIONS.len());
    for (index, (name, params, has_result)) in FUNCTIONS.iter().enumerate() {
        let ty = func_type(params, *has_result);
        let type_id = signatures::canonical_ids(std::slice::from_ref(&ty), &[], &Default::default())[0];
        let data = Box::into_raw(Box::new(ImportData { wasi: wasi.clone(), index }));
        let host = trampolines(&ty)
            .and_then(|t| HostFunction::new(ty, type_id, wasi_call, data as *mut c_void, Some(drop_import_data), t));
        match host {
            Ok(host) => out.push((*name, host)),
            Err(e) => {
                // SAFETY: `data` came from Box::into_raw above and was not handed out.
                drop(unsafe { Box::from_raw(data) });
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// The exit trampoline's callback of every WASI import. Returns 0 with the errno in slot 0;
/// returns 1 (the call traps, unwinding the program) after proc_exit, whose code the binding
/// then takes with [`Wasi::take_exit`].
unsafe extern "C" fn wasi_call(context: *mut VMHostFuncContext, values: *mut u128) -> u32 {
    // SAFETY: `context` is the context of a host function made by `host_functions`, whose data is
    // a live ImportData (freed only when the host function is dropped, which cannot happen while
    // wasm calls it).
    let data = unsafe { &*((*context).data as *const ImportData) };
    let (_, params, _) = FUNCTIONS[data.index];
    // SAFETY: the exit trampoline passes max(params, results, 1) slots.
    let values = unsafe { std::slice::from_raw_parts_mut(values, params.len().max(1)) };
    let args: Vec<u64> = params
        .chars()
        .enumerate()
        .map(|(i, c)| if c == 'I' { values[i] as u64 } else { values[i] as u32 as u64 })
        .collect();
    let mut state = data.wasi.state();
    let memory = state.memory.clone();
    let mut empty = [0u8; 0];
    // SAFETY: wasm of this program is suspended in this call (single-threaded per memory; WASI
    // preview 1 programs share no memory with other threads), so nothing else uses the bytes
    // while the slice lives; the slice ends with this call, before wasm may grow the memory.
    let bytes: &mut [u8] = match &memory {
        Some(m) if !m.is_64() => unsafe { m.bytes_mut() },
        _ => &mut empty,
    };
    let has_memory = memory.is_some();
    let mut mem = Mem::new(bytes);
    match state.call(data.index, &args, &mut mem, has_memory) {
        Ok(errno) => {
            values[0] = errno as u128;
            0
        }
        Err(Stop::Exit(code)) => {
            state.exit = Some(code);
            1
        }
        Err(Stop::Interrupted) => {
            super::interrupts::host_call_interrupted();
            1
        }
    }
}

/// Why a WASI call ends the program's activation instead of returning an errno.
pub enum Stop {
    /// proc_exit was called with this code.
    Exit(u32),
    /// The thread was interrupted while the call blocked (see [`errno::STOPPED`]).
    Interrupted,
}

fn a32(args: &[u64], i: usize) -> u32 {
    args[i] as u32
}

/// The WASI errno of the host's `errno`.
fn host_errno() -> u32 {
    match std::io::Error::last_os_error().raw_os_error().unwrap_or(0) {
        libc::EAGAIN => errno::AGAIN,
        libc::EBADF => errno::BADF,
        libc::EFAULT => errno::FAULT,
        libc::EINTR => errno::INTR,
        libc::EINVAL => errno::INVAL,
        libc::EISDIR => errno::ISDIR,
        libc::ENOSPC => errno::NOSPC,
        libc::EPERM => errno::PERM,
        libc::EACCES => errno::ACCES,
        libc::EPIPE => errno::PIPE,
        libc::ESPIPE => errno::SPIPE,
        libc::ENOENT => errno::NOENT,
        libc::EXDEV => errno::NOTCAPABLE,
        libc::EEXIST => 20,
        libc::ENOTDIR => errno::NOTDIR,
        libc::ENOTEMPTY => 55,
        libc::ELOOP => 32,
        libc::ENAMETOOLONG => 37,
        libc::EROFS => 69,
        libc::EBUSY => 10,
        libc::EOPNOTSUPP => errno::NOTSUP,
        libc::EMFILE => 33,
        libc::ENXIO => 60,
        libc::EFBIG => 22,
        libc::EOVERFLOW => 61,
        _ => errno::IO,
    }
}

/// Waits until `fd` is ready for `events`, looking for interrupts between slices of the wait:
/// errno::STOPPED when the thread is interrupted meanwhile. Then the read or write that follows
/// does not block (a ready fd, or one in error, which it reports).
fn wait_ready(fd: i32, events: i16) -> Result<(), u32> {
    loop {
        let slice = super::interrupts::blocking_check().map_err(|_| errno::STOPPED)?;
        let mut pfd = libc::pollfd { fd, events, revents: 0 };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, slice_ms(slice)) };
        if ready > 0 || (ready < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR)) {
            return Ok(());
        }
    }
}

/// Whether `fd` is ready for `events` now.
fn ready_now(fd: i32, events: i16) -> bool {
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd, for the duration of the call.
    unsafe { libc::poll(&mut pfd, 1, 0) > 0 }
}

/// A wait slice as poll's timeout, in whole milliseconds, rounded up.
fn slice_ms(slice: std::time::Duration) -> i32 {
    slice.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32
}

/// Whether reading or writing `host` may block: anything but a regular file or a directory
/// (a pipe, a terminal, a socket).
fn may_block(host: i32) -> bool {
    !matches!(host_filetype(host), filetype::REGULAR_FILE | filetype::DIRECTORY)
}

fn clock_id(id: u32) -> Option<libc::clockid_t> {
    match id {
        0 => Some(libc::CLOCK_REALTIME),
        1 => Some(libc::CLOCK_MONOTONIC),
        2 => Some(libc::CLOCK_PROCESS_CPUTIME_ID),
        3 => Some(libc::CLOCK_THREAD_CPUTIME_ID),
        _ => None,
    }
}

fn clock_now(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and a live timespec.
    unsafe { libc::clock_gettime(id, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

impl WasiState {
    fn fd(&self, fd: u32) -> Result<Fd, u32> {
        self.fds.get(fd as usize).cloned().flatten().ok_or(errno::BADF)
    }

    /// A filestat in the program's layout: preview 1's 64 bytes, or wasi_unstable's 56 (a 32-bit
    /// nlink, the fields after it 8 bytes earlier).
    fn filestat(&self, stat: [u8; 64]) -> Vec<u8> {
        if !self.unstable {
            return stat.to_vec();
        }
        let mut out = vec![0u8; 56];
        out[0..17].copy_from_slice(&stat[0..17]);
        out[20..24].copy_from_slice(&stat[24..28]);
        out[24..56].copy_from_slice(&stat[32..64]);
        out
    }

    fn filestat_size(&self) -> u32 {
        if self.unstable {
            56
        } else {
            64
        }
    }

    /// The entry of `fd` if it is a directory (ENOTDIR otherwise).
    fn dir(&self, fd: u32) -> Result<Fd, u32> {
        let entry = self.fd(fd)?;
        if entry.kind != Kind::Dir {
            return Err(errno::NOTDIR);
        }
        Ok(entry)
    }

    /// `fd` if it has every right in `needed` (ENOTCAPABLE otherwise).
    fn with_rights(&self, fd: u32, needed: u64) -> Result<Fd, u32> {
        let entry = self.fd(fd)?;
        if entry.rights & needed != needed {
            return Err(errno::NOTCAPABLE);
        }
        Ok(entry)
    }

    fn insert(&mut self, entry: Fd) -> u32 {
        match self.fds.iter().position(Option::is_none) {
            Some(i) => {
                self.fds[i] = Some(entry);
                i as u32
            }
            None => {
                self.fds.push(Some(entry));
                (self.fds.len() - 1) as u32
            }
        }
    }

    /// Runs WASI function `index` with `args`; the errno it returns, or proc_exit's code.
    fn call(&mut self, index: usize, a: &[u64], mem: &mut Mem, has_memory: bool) -> Result<u32, Stop> {
        let name = FUNCTIONS[index].0;
        let result = match name {
            "proc_exit" => return Err(Stop::Exit(a32(a, 0))),
            "sched_yield" => {
                std::thread::yield_now();
                Ok(())
            }
            "proc_raise" => Err(errno::NOSYS),
            _ if !has_memory => Err(errno::FAULT),
            "args_get" => strings_get(&self.args, mem, a32(a, 0), a32(a, 1)),
            "args_sizes_get" => sizes_get(&self.args, mem, a32(a, 0), a32(a, 1)),
            "environ_get" => strings_get(&self.env, mem, a32(a, 0), a32(a, 1)),
            "environ_sizes_get" => sizes_get(&self.env, mem, a32(a, 0), a32(a, 1)),
            "clock_res_get" => (|| {
                let id = clock_id(a32(a, 0)).ok_or(errno::INVAL)?;
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: a valid clock id and a live timespec.
                unsafe { libc::clock_getres(id, &mut ts) };
                mem.write_u64(a32(a, 1), (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64)
            })(),
            "clock_time_get" => (|| {
                let id = clock_id(a32(a, 0)).ok_or(errno::INVAL)?;
                mem.write_u64(a32(a, 2), clock_now(id))
            })(),
            "random_get" => (|| {
                let buf = mem.slice_mut(a32(a, 0), a32(a, 1))?;
                let mut filled = 0;
                while filled < buf.len() {
                    let rest = &mut buf[filled..];
                    // SAFETY: writes at most rest.len() bytes into rest.
                    let n = unsafe { libc::getrandom(rest.as_mut_ptr() as *mut c_void, rest.len(), 0) };
                    if n < 0 {
                        if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                            continue;
                        }
                        return Err(errno::IO);
                    }
                    filled += n as usize;
                }
                Ok(())
            })(),
            "fd_write" => self.fd_write(mem, a32(a, 0), a32(a, 1), a32(a, 2), a32(a, 3)),
            "fd_read" => self.fd_read(mem, a32(a, 0), a32(a, 1), a32(a, 2), a32(a, 3)),
            "fd_close" => self.fd(a32(a, 0)).map(|entry| {
                self.fds[a32(a, 0) as usize] = None;
                if entry.kind != Kind::Stdio {
                    // SAFETY: the host fd was this state's own, and no entry names it any more.
                    unsafe { libc::close(entry.host) };
                }
            }),
            "fd_fdstat_get" => (|| {
                let entry = self.fd(a32(a, 0))?;
                let host = entry.host;
                let mut stat = [0u8; 24];
                stat[0] = host_filetype(host);
                // fs_flags: those the program set; for stdio, the host fd's O_APPEND too.
                // SAFETY: F_GETFL on an fd has no memory effects.
                let fl = unsafe { libc::fcntl(host, libc::F_GETFL) };
                let mut flags = entry.flags;
                if entry.kind == Kind::Stdio && fl >= 0 && fl & libc::O_APPEND != 0 {
                    flags |= 1;
                }
                stat[2..4].copy_from_slice(&flags.to_le_bytes());
                stat[8..16].copy_from_slice(&entry.rights.to_le_bytes());
                stat[16..24].copy_from_slice(&entry.inheriting.to_le_bytes());
                mem.write_bytes(a32(a, 1), &stat)
            })(),
            "fd_prestat_get" => (|| {
                let name = self.fd(a32(a, 0))?.preopen.ok_or(errno::BADF)?;
                mem.write_u32(a32(a, 1), 0)?;
                mem.write_u32(a32(a, 1).checked_add(4).ok_or(errno::FAULT)?, name.len() as u32)
            })(),
            "fd_prestat_dir_name" => (|| {
                let name = self.fd(a32(a, 0))?.preopen.ok_or(errno::BADF)?;
                if (a32(a, 2) as usize) < name.len() {
                    return Err(37); // NAMETOOLONG
                }
                let len = name.len();
                mem.slice(a32(a, 1), a32(a, 2))?;
                mem.write_bytes(a32(a, 1), &name[..len])
            })(),
            "fd_filestat_get" => (|| {
                let entry = self.fd(a32(a, 0))?;
                mem.slice(a32(a, 1), self.filestat_size())?;
                let stat = fs::fstat(entry.host)?;
                mem.write_bytes(a32(a, 1), &self.filestat(stat))
            })(),
            "fd_pread" | "fd_pwrite" => self.fd_pread_pwrite(mem, name == "fd_pwrite", a),
            "fd_readdir" => (|| {
                let entry = self.dir(a32(a, 0)).map_err(|_| errno::BADF)?;
                mem.slice(a32(a, 1), a32(a, 2))?;
                mem.slice(a32(a, 4), 4)?;
                let bytes = fs::readdir(entry.host, a[3], a32(a, 2) as usize)?;
                mem.write_bytes(a32(a, 1), &bytes)?;
                mem.write_u32(a32(a, 4), bytes.len() as u32)
            })(),
            "path_open" => self.path_open(mem, a),
            "path_filestat_get" => (|| {
                let dir = self.dir(a32(a, 0))?;
                let path = mem.slice(a32(a, 2), a32(a, 3))?.to_vec();
                mem.slice(a32(a, 4), self.filestat_size())?;
                let stat = fs::stat(dir.host, &path, a32(a, 1) & 1 != 0)?;
                mem.write_bytes(a32(a, 4), &self.filestat(stat))
            })(),
            "path_create_directory" | "path_unlink_file" | "path_remove_directory" => (|| {
                let dir = self.dir(a32(a, 0))?;
                let path = mem.slice(a32(a, 1), a32(a, 2))?.to_vec();
                fs::path_op(dir.host, &path, name)
            })(),
            "path_rename" => (|| {
                let from = self.dir(a32(a, 0))?;
                let to = self.dir(a32(a, 3))?;
                let old = mem.slice(a32(a, 1), a32(a, 2))?.to_vec();
                let new = mem.slice(a32(a, 4), a32(a, 5))?.to_vec();
                fs::rename(from.host, &old, to.host, &new)
            })(),
            "path_symlink" => (|| {
                let target = mem.slice(a32(a, 0), a32(a, 1))?.to_vec();
                let dir = self.dir(a32(a, 2))?;
                let path = mem.slice(a32(a, 3), a32(a, 4))?.to_vec();
                fs::symlink(&target, dir.host, &path)
            })(),
            "path_readlink" => (|| {
                let dir = self.dir(a32(a, 0))?;
                let path = mem.slice(a32(a, 1), a32(a, 2))?.to_vec();
                mem.slice(a32(a, 3), a32(a, 4))?;
                mem.slice(a32(a, 5), 4)?;
                let target = fs::readlink(dir.host, &path)?;
                let len = target.len().min(a32(a, 4) as usize);
                mem.write_bytes(a32(a, 3), &target[..len])?;
                mem.write_u32(a32(a, 5), len as u32)
            })(),
            "fd_seek" => (|| {
                let entry = self.with_rights(a32(a, 0), rights::FD_SEEK)?;
                let host = entry.host;
                let whence = match (self.unstable, a32(a, 2)) {
                    (false, 0) | (true, 2) => libc::SEEK_SET,
                    (false, 1) | (true, 0) => libc::SEEK_CUR,
                    (false, 2) | (true, 1) => libc::SEEK_END,
                    _ => return Err(errno::INVAL),
                };
                if host_filetype(host) != filetype::REGULAR_FILE {
                    return Err(errno::SPIPE);
                }
                // SAFETY: lseek on an fd has no memory effects.
                let off = unsafe { libc::lseek(host, a[1] as i64, whence) };
                if off < 0 {
                    return Err(host_errno());
                }
                mem.write_u64(a32(a, 3), off as u64)
            })(),
            "fd_tell" => (|| {
                let entry = self.with_rights(a32(a, 0), rights::FD_TELL)?;
                let host = entry.host;
                if host_filetype(host) != filetype::REGULAR_FILE {
                    return Err(errno::SPIPE);
                }
                // SAFETY: lseek on an fd has no memory effects.
                let off = unsafe { libc::lseek(host, 0, libc::SEEK_CUR) };
                if off < 0 {
                    return Err(host_errno());
                }
                mem.write_u64(a32(a, 1), off as u64)
            })(),
            "fd_sync" | "fd_datasync" => (|| {
                let entry = self.with_rights(a32(a, 0), if name == "fd_sync" { rights::FD_SYNC } else { 1 })?;
                // SAFETY: fsync/fdatasync on an fd have no memory effects.
                fs::check(unsafe { if name == "fd_sync" { libc::fsync(entry.host) } else { libc::fdatasync(entry.host) } })
            })(),
            "fd_advise" => (|| {
                let entry = self.fd(a32(a, 0))?;
                if entry.kind == Kind::Dir {
                    return Err(errno::BADF);
                }
                let advice = match a32(a, 3) {
                    0 => libc::POSIX_FADV_NORMAL,
                    1 => libc::POSIX_FADV_SEQUENTIAL,
                    2 => libc::POSIX_FADV_RANDOM,
                    3 => libc::POSIX_FADV_WILLNEED,
                    4 => libc::POSIX_FADV_DONTNEED,
                    5 => libc::POSIX_FADV_NOREUSE,
                    _ => return Err(errno::INVAL),
                };
                if entry.rights & rights::FD_ADVISE == 0 {
                    return Err(errno::NOTCAPABLE);
                }
                // SAFETY: posix_fadvise on an fd has no memory effects.
                let r = unsafe { libc::posix_fadvise(entry.host, a[1] as i64, a[2] as i64, advice) };
                if r != 0 && r != libc::ESPIPE {
                    return Err(errno::INVAL);
                }
                Ok(())
            })(),
            "fd_allocate" => (|| {
                let entry = self.fd(a32(a, 0))?;
                if entry.kind == Kind::Dir {
                    return Err(errno::BADF);
                }
                if entry.rights & (1 << 8) == 0 {
                    return Err(errno::NOTCAPABLE);
                }
                let (offset, len) = (i64::try_from(a[1]).map_err(|_| errno::INVAL)?, i64::try_from(a[2]).map_err(|_| errno::INVAL)?);
                // SAFETY: posix_fallocate on an fd has no memory effects.
                let r = unsafe { libc::posix_fallocate(entry.host, offset, len) };
                if r != 0 {
                    return Err(if r == libc::EINVAL { errno::INVAL } else { errno::IO });
                }
                Ok(())
            })(),
            "fd_fdstat_set_flags" => (|| {
                let entry = self.with_rights(a32(a, 0), rights::FD_FDSTAT_SET_FLAGS)?;
                let flags = a32(a, 1) as u16;
                if flags & !0x1f != 0 {
                    return Err(errno::INVAL);
                }
                if entry.kind != Kind::Stdio {
                    // Only APPEND and NONBLOCK can change on an open host fd.
                    // SAFETY: F_GETFL/F_SETFL on an fd have no memory effects.
                    let fl = unsafe { libc::fcntl(entry.host, libc::F_GETFL) };
                    let mut new = fl & !(libc::O_APPEND | libc::O_NONBLOCK);
                    if flags & 1 != 0 {
                        new |= libc::O_APPEND;
                    }
                    if flags & 4 != 0 {
                        new |= libc::O_NONBLOCK;
                    }
                    // SAFETY: as above.
                    fs::check(unsafe { libc::fcntl(entry.host, libc::F_SETFL, new) })?;
                }
                // Stdio: recorded, the host fd (Node's own) is left as it is.
                if let Some(Some(e)) = self.fds.get_mut(a32(a, 0) as usize) {
                    e.flags = flags;
                }
                Ok(())
            })(),
            "fd_fdstat_set_rights" => (|| {
                let entry = self.fd(a32(a, 0))?;
                if a[1] & !entry.rights != 0 || a[2] & !entry.inheriting != 0 {
                    return Err(errno::NOTCAPABLE);
                }
                if let Some(Some(e)) = self.fds.get_mut(a32(a, 0) as usize) {
                    e.rights = a[1];
                    e.inheriting = a[2];
                }
                Ok(())
            })(),
            "fd_filestat_set_size" => (|| {
                let entry = self.with_rights(a32(a, 0), 1 << 22)?;
                let size = i64::try_from(a[1]).map_err(|_| errno::INVAL)?;
                // SAFETY: ftruncate on an fd has no memory effects.
                fs::check(unsafe { libc::ftruncate(entry.host, size) })
            })(),
            "fd_filestat_set_times" => (|| {
                let entry = self.with_rights(a32(a, 0), 1 << 23)?;
                let times = fs::timespecs(a[1], a[2], a32(a, 3))?;
                // SAFETY: futimens reads two live timespecs.
                fs::check(unsafe { libc::futimens(entry.host, times.as_ptr()) })
            })(),
            "path_filestat_set_times" => (|| {
                let dir = self.dir(a32(a, 0))?;
                let path = mem.slice(a32(a, 2), a32(a, 3))?.to_vec();
                let times = fs::timespecs(a[4], a[5], a32(a, 6))?;
                fs::set_times(dir.host, &path, a32(a, 1) & 1 != 0, &times)
            })(),
            "path_link" => (|| {
                let from = self.dir(a32(a, 0))?;
                let old = mem.slice(a32(a, 2), a32(a, 3))?.to_vec();
                let to = self.dir(a32(a, 4))?;
                let new = mem.slice(a32(a, 5), a32(a, 6))?.to_vec();
                fs::link(from.host, &old, a32(a, 1) & 1 != 0, to.host, &new)
            })(),
            "fd_renumber" => (|| {
                let (from, to) = (a32(a, 0), a32(a, 1));
                self.fd(from)?;
                let old = self.fd(to)?;
                if from == to {
                    return Ok(());
                }
                let moved = self.fds[from as usize].take();
                self.fds[to as usize] = moved;
                if old.kind != Kind::Stdio {
                    // SAFETY: the replaced entry's host fd was this state's own.
                    unsafe { libc::close(old.host) };
                }
                Ok(())
            })(),
            "sock_accept" | "sock_recv" | "sock_send" | "sock_shutdown" => self.fd(a32(a, 0)).and(Err(errno::NOTSOCK)),
            "poll_oneoff" => self.poll_oneoff(mem, a32(a, 0), a32(a, 1), a32(a, 2), a32(a, 3)),
            // The path functions name a directory fd: there are none to name yet.
            _ if name.starts_with("path_") => {
                let dir = if name == "path_symlink" { a32(a, 2) } else { a32(a, 0) };
                self.dir(dir).and(Err(errno::NOSYS))
            }
            _ => Err(errno::NOSYS),
        };
        match result {
            Ok(()) => Ok(errno::SUCCESS),
            Err(errno::STOPPED) => Err(Stop::Interrupted),
            Err(e) => Ok(e),
        }
    }

    fn fd_pread_pwrite(&mut self, mem: &mut Mem, write: bool, a: &[u64]) -> Result<(), u32> {
        let needed = if write { rights::FD_WRITE } else { rights::FD_READ };
        let entry = self.with_rights(a32(a, 0), needed | rights::FD_SEEK)?;
        if entry.kind == Kind::Dir {
            return Err(errno::BADF);
        }
        let iovecs = mem.iovecs(a32(a, 1), a32(a, 2))?;
        let out = a32(a, 4);
        mem.slice(out, 4)?;
        let mut offset = i64::try_from(a[3]).map_err(|_| errno::INVAL)?;
        let mut total: u32 = 0;
        for (ptr, len) in iovecs {
            let n = if write {
                let buf = mem.slice(ptr, len)?;
                // SAFETY: reads at most buf.len() bytes from buf.
                unsafe { libc::pwrite(entry.host, buf.as_ptr() as *const c_void, buf.len(), offset) }
            } else {
                let buf = mem.slice_mut(ptr, len)?;
                // SAFETY: writes at most buf.len() bytes into buf.
                unsafe { libc::pread(entry.host, buf.as_mut_ptr() as *mut c_void, buf.len(), offset) }
            };
            if n < 0 {
                if total > 0 {
                    break;
                }
                return Err(host_errno());
            }
            total = total.wrapping_add(n as u32);
            offset += n as i64;
            if (n as u32) < len {
                break;
            }
        }
        mem.write_u32(out, total)
    }

    fn path_open(&mut self, mem: &mut Mem, a: &[u64]) -> Result<(), u32> {
        let dir = self.dir(a32(a, 0))?;
        if dir.rights & (1 << 13) == 0 {
            return Err(errno::NOTCAPABLE);
        }
        let follow = a32(a, 1) & 1 != 0;
        let path = mem.slice(a32(a, 2), a32(a, 3))?.to_vec();
        let oflags = a32(a, 4);
        let (rights, inheriting) = (a[5] & dir.inheriting, a[6] & dir.inheriting);
        let fdflags = a32(a, 7);
        mem.slice(a32(a, 8), 4)?;
        // Creating needs PATH_CREATE_FILE, truncating PATH_FILESTAT_SET_SIZE, in the directory.
        if (oflags & 1 != 0 && dir.rights & (1 << 10) == 0) || (oflags & 8 != 0 && dir.rights & (1 << 19) == 0) {
            return Err(errno::NOTCAPABLE);
        }
        // A directory is never opened for writing.
        if oflags & 2 != 0 && rights & (rights::FD_WRITE | (1 << 8) | (1 << 22)) != 0 {
            return Err(errno::ISDIR);
        }
        let read = rights & (rights::FD_READ | (1 << 14)) != 0;
        let write = rights & (rights::FD_WRITE | (1 << 8) | (1 << 22)) != 0 || oflags & 8 != 0;
        let mut flags = match (read, write) {
            (_, false) => libc::O_RDONLY,
            (false, true) => libc::O_WRONLY,
            (true, true) => libc::O_RDWR,
        };
        flags |= libc::O_CLOEXEC;
        if oflags & 1 != 0 {
            flags |= libc::O_CREAT;
        }
        if oflags & 2 != 0 {
            flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        }
        if oflags & 4 != 0 {
            flags |= libc::O_EXCL;
        }
        if oflags & 8 != 0 {
            flags |= libc::O_TRUNC;
        }
        if fdflags & 1 != 0 {
            flags |= libc::O_APPEND;
        }
        if fdflags & 4 != 0 {
            flags |= libc::O_NONBLOCK;
        }
        if fdflags & (2 | 8 | 16) != 0 {
            flags |= libc::O_SYNC;
        }
        if !follow {
            flags |= libc::O_NOFOLLOW;
        }
        let host = match fs::open_beneath(dir.host, &path, flags, 0o666) {
            // A directory opened for writing (no O_DIRECTORY asked): open it read-only, as a
            // directory fd.
            Err(errno::ISDIR) if oflags & 1 == 0 => {
                fs::open_beneath(dir.host, &path, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC | (flags & libc::O_NOFOLLOW), 0)?
            }
            other => other?,
        };
        let kind = if host_filetype(host) == filetype::DIRECTORY { Kind::Dir } else { Kind::File };
        let mask = if kind == Kind::Dir { rights::DIR } else { rights::FILE };
        let fd = self.insert(Fd { host, kind, preopen: None, rights: rights & mask, inheriting, flags: fdflags as u16 & 0x1f });
        mem.write_u32(a32(a, 8), fd)
    }

    fn fd_write(&mut self, mem: &mut Mem, fd: u32, iovs: u32, count: u32, nwritten: u32) -> Result<(), u32> {
        let entry = self.with_rights(fd, rights::FD_WRITE)?;
        let host = entry.host;
        let iovecs = mem.iovecs(iovs, count)?;
        // Every pointer is checked before anything is written to the host.
        mem.slice(nwritten, 4)?;
        let mut total: u32 = 0;
        // The program's NONBLOCK flag (fd_fdstat_set_flags; on stdio, recorded without changing
        // Node's host fd) asks for EAGAIN instead of a wait.
        let pipe = may_block(host);
        let blocking = pipe && entry.flags & 4 == 0;
        'outer: for (ptr, len) in iovecs {
            let mut buf = mem.slice(ptr, len)?;
            while !buf.is_empty() {
                // A pipe or terminal that is full blocks the write: wait for room, interruptibly.
                if blocking {
                    match wait_ready(host, libc::POLLOUT) {
                        Err(_) if total > 0 => break 'outer,
                        other => other?,
                    }
                } else if pipe && !ready_now(host, libc::POLLOUT) {
                    if total > 0 {
                        break 'outer;
                    }
                    return Err(errno::AGAIN);
                }
                // SAFETY: reads at most buf.len() bytes from buf.
                let n = unsafe { libc::write(host, buf.as_ptr() as *const c_void, buf.len()) };
                if n < 0 {
                    let e = host_errno();
                    if e == errno::AGAIN && blocking {
                        match wait_ready(host, libc::POLLOUT) {
                            Err(_) if total > 0 => break 'outer,
                            other => other?,
                        }
                        continue;
                    }
                    if e == errno::INTR {
                        continue;
                    }
                    if total > 0 {
                        break 'outer;
                    }
                    return Err(e);
                }
                total = total.wrapping_add(n as u32);
                buf = &buf[n as usize..];
            }
        }
        mem.write_u32(nwritten, total)
    }

    fn fd_read(&mut self, mem: &mut Mem, fd: u32, iovs: u32, count: u32, nread: u32) -> Result<(), u32> {
        let entry = self.with_rights(fd, rights::FD_READ)?;
        let host = entry.host;
        let iovecs = mem.iovecs(iovs, count)?;
        // Every pointer is checked before anything is read from the host.
        mem.slice(nread, 4)?;
        let mut total: u32 = 0;
        // The program's NONBLOCK flag (fd_fdstat_set_flags; on stdio, recorded without changing
        // Node's host fd) asks for EAGAIN instead of a wait.
        let pipe = may_block(host);
        let blocking = pipe && entry.flags & 4 == 0;
        for (ptr, len) in iovecs {
            if len == 0 {
                continue;
            }
            // A pipe or terminal blocks the read until there is input: wait for it in slices
            // (interruptibly) before the first read, and read further buffers only if more input
            // is there already.
            if pipe {
                if total == 0 && blocking {
                    wait_ready(host, libc::POLLIN)?;
                } else if !ready_now(host, libc::POLLIN) {
                    if total == 0 {
                        return Err(errno::AGAIN);
                    }
                    break;
                }
            }
            let buf = mem.slice_mut(ptr, len)?;
            let n = loop {
                // SAFETY: writes at most buf.len() bytes into buf.
                let n = unsafe { libc::read(host, buf.as_mut_ptr() as *mut c_void, buf.len()) };
                if n >= 0 {
                    break n as usize;
                }
                match host_errno() {
                    errno::INTR => continue,
                    errno::AGAIN if total == 0 && blocking => wait_ready(host, libc::POLLIN)?,
                    _ if total > 0 => break 0,
                    e => return Err(e),
                }
            };
            total = total.wrapping_add(n as u32);
            if n < len as usize {
                break;
            }
        }
        mem.write_u32(nread, total)
    }

    /// Waits until one subscription is ready: the earliest clock expires, or a subscribed fd
    /// is ready to read or write (the host's poll), and reports those; an fd subscription on
    /// a bad fd reports its errno at once. The wait blocks the thread, as node:wasi's does, in
    /// slices that look for interrupts: it ends at the thread's deadline (a Sandbox timeout),
    /// when V8 terminates the thread (a Worker's terminate(), a vm timeout) or the process
    /// exits (errno::STOPPED).
    fn poll_oneoff(&mut self, mem: &mut Mem, input: u32, out: u32, nsubs: u32, nevents: u32) -> Result<(), u32> {
        if nsubs == 0 {
            return Err(errno::INVAL);
        }
        // wasi_unstable's clock subscription has an `identifier` first: 56 bytes, fields 8 later.
        let (size, at) = if self.unstable { (56, 8) } else { (48, 0) };
        let subs = mem.slice(input, nsubs.checked_mul(size).ok_or(errno::FAULT)?)?.to_vec();
        mem.slice(out, nsubs.checked_mul(32).ok_or(errno::FAULT)?)?;
        mem.slice(nevents, 4)?;
        let event_of = |userdata: u64, error: u32, tag: u8| {
            let mut event = [0u8; 32];
            event[0..8].copy_from_slice(&userdata.to_le_bytes());
            event[8..10].copy_from_slice(&(error as u16).to_le_bytes());
            event[10] = tag;
            event
        };
        let mut events: Vec<[u8; 32]> = Vec::new();
        // The earliest clock: its wait in nanoseconds, and the userdata of the clocks that end then.
        let mut earliest: Option<(u64, Vec<u64>)> = None;
        // The fd subscriptions to wait for: (userdata, tag, host pollfd).
        let mut fds: Vec<(u64, u8, libc::pollfd)> = Vec::new();
        for sub in subs.chunks_exact(size as usize) {
            let userdata = u64::from_le_bytes(sub[0..8].try_into().unwrap());
            let tag = sub[8];
            match tag {
                0 => {
                    let id = u32::from_le_bytes(sub[at + 16..at + 20].try_into().unwrap());
                    let timeout = u64::from_le_bytes(sub[at + 24..at + 32].try_into().unwrap());
                    let flags = u16::from_le_bytes(sub[at + 40..at + 42].try_into().unwrap());
                    let Some(clock) = clock_id(id) else {
                        events.push(event_of(userdata, errno::INVAL, tag));
                        continue;
                    };
                    let now = clock_now(clock);
                    let wait = if flags & 1 != 0 { timeout.saturating_sub(now) } else { timeout };
                    match &mut earliest {
                        Some((w, list)) if *w == wait => list.push(userdata),
                        Some((w, _)) if *w < wait => {}
                        _ => earliest = Some((wait, vec![userdata])),
                    }
                }
                1 | 2 => {
                    let fd = u32::from_le_bytes(sub[16..20].try_into().unwrap());
                    match self.with_rights(fd, rights::POLL_FD_READWRITE) {
                        Ok(entry) => {
                            let events = if tag == 1 { libc::POLLIN } else { libc::POLLOUT };
                            fds.push((userdata, tag, libc::pollfd { fd: entry.host, events, revents: 0 }));
                        }
                        Err(e) => events.push(event_of(userdata, e, tag)),
                    }
                }
                _ => return Err(errno::INVAL),
            }
        }
        let start = std::time::Instant::now();
        loop {
            // Events already (bad fds): only what is ready now is added to them.
            let wait_left = match &earliest {
                _ if !events.is_empty() => Some(0),
                Some((wait, _)) => Some(wait.saturating_sub(start.elapsed().as_nanos() as u64)),
                None => None,
            };
            let slice = if wait_left == Some(0) {
                std::time::Duration::ZERO
            } else {
                super::interrupts::blocking_check().map_err(|_| errno::STOPPED)?
            };
            let timeout = match wait_left {
                Some(left) => slice.min(std::time::Duration::from_nanos(left)),
                None => slice,
            };
            let ts = libc::timespec { tv_sec: timeout.as_secs() as libc::time_t, tv_nsec: timeout.subsec_nanos() as libc::c_long };
            let mut pfds: Vec<libc::pollfd> = fds.iter().map(|(_, _, p)| *p).collect();
            // SAFETY: `pfds` is a live array of pfds.len() pollfds and `ts` a live timespec, for
            // the duration of the call; no signal mask is given.
            let ready = unsafe { libc::ppoll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, &ts, std::ptr::null()) };
            if ready > 0 {
                for ((userdata, tag, _), pfd) in fds.iter().zip(&pfds) {
                    if pfd.revents == 0 {
                        continue;
                    }
                    let error = if pfd.revents & libc::POLLNVAL != 0 { errno::BADF } else { 0 };
                    let mut event = event_of(*userdata, error, *tag);
                    let mut available: libc::c_int = 0;
                    // SAFETY: FIONREAD writes one int into `available`, a live local.
                    if *tag == 1 && unsafe { libc::ioctl(pfd.fd, libc::FIONREAD, &mut available) } == 0 {
                        event[16..24].copy_from_slice(&(available.max(0) as u64).to_le_bytes());
                    }
                    if pfd.revents & libc::POLLHUP != 0 {
                        event[24..26].copy_from_slice(&1u16.to_le_bytes()); // FD_READWRITE_HANGUP
                    }
                    events.push(event);
                }
            }
            if !events.is_empty() {
                break;
            }
            if let Some((wait, list)) = &earliest {
                if start.elapsed().as_nanos() as u64 >= *wait {
                    for sub in subs.chunks_exact(size as usize) {
                        let userdata = u64::from_le_bytes(sub[0..8].try_into().unwrap());
                        if sub[8] == 0 && list.contains(&userdata) {
                            events.push(event_of(userdata, 0, 0));
                        }
                    }
                    break;
                }
            }
        }
        for (i, event) in events.iter().enumerate() {
            mem.write_bytes(out + 32 * i as u32, event)?;
        }
        mem.write_u32(nevents, events.len() as u32)
    }
}

impl Drop for WasiState {
    fn drop(&mut self) {
        for entry in self.fds.iter().flatten() {
            if entry.kind != Kind::Stdio {
                // SAFETY: the state owns the host fds of its files and directories.
                unsafe { libc::close(entry.host) };
            }
        }
    }
}

/// The filesystem under preopened directories. Every path a program gives is resolved by the
/// kernel beneath a directory fd it holds (openat2 with RESOLVE_BENEATH): an absolute path, a
/// `..` or a symlink (absolute or relative) that would leave it fails (EXDEV → ENOTCAPABLE).
/// Operations on a name (mkdir, unlink, rename, symlink, readlink, stat without following)
/// resolve the parent that way and then act on one final component, never `.` or `..`, without
/// following it.
mod fs {
    use std::ffi::CString;

    use super::{errno, host_errno};

    fn cstring(bytes: &[u8]) -> Result<CString, u32> {
        CString::new(bytes).map_err(|_| errno::INVAL)
    }

    /// Opens `path` beneath `dir` (never outside it).
    pub fn open_beneath(dir: i32, path: &[u8], flags: i32, mode: u32) -> Result<i32, u32> {
        if path.is_empty() {
            return Err(errno::NOENT);
        }
        if path[0] == b'/' {
            return Err(errno::NOTCAPABLE);
        }
        let c = cstring(path)?;
        // The kernel's `struct open_how` (libc's is non-exhaustive).
        #[repr(C)]
        struct OpenHow {
            flags: u64,
            mode: u64,
            resolve: u64,
        }
        let how = OpenHow {
            flags: flags as u64,
            mode: if flags & libc::O_CREAT != 0 { mode as u64 } else { 0 },
            resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS,
        };
        loop {
            // SAFETY: a NUL-terminated path and a live open_how of the size passed; the fd
            // returned is the caller's.
            let fd = unsafe {
                libc::syscall(libc::SYS_openat2, dir, c.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>())
            };
            if fd >= 0 {
                return Ok(fd as i32);
            }
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => continue,
                _ => return Err(host_errno()),
            }
        }
    }

    /// An fd closed when dropped.
    struct Owned(i32);
    impl Drop for Owned {
        fn drop(&mut self) {
            // SAFETY: the fd is this guard's own.
            unsafe { libc::close(self.0) };
        }
    }

    /// The parent directory of `path` (opened beneath `dir`) and its final component; whether
    /// the path ended with a slash.
    fn parent(dir: i32, path: &[u8]) -> Result<(Owned, CString, bool), u32> {
        if path.first() == Some(&b'/') {
            return Err(errno::NOTCAPABLE);
        }
        let trimmed_len = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
        let slash = trimmed_len < path.len();
        let path = &path[..trimmed_len];
        if path.is_empty() {
            return Err(errno::NOENT);
        }
        let (head, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b"."[..], path),
        };
        if name == b"." || name == b".." {
            // Not one entry of the parent: the caller's operation does not apply to it.
            return Err(if name == b".." { errno::NOTCAPABLE } else { errno::INVAL });
        }
        let head = if head.is_empty() { &b"."[..] } else { head };
        let parent = open_beneath(dir, head, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?;
        Ok((Owned(parent), cstring(name)?, slash))
    }

    /// The two timespecs of futimens/utimensat for WASI's times and fstflags (ATIM 1, ATIM_NOW 2,
    /// MTIM 4, MTIM_NOW 8).
    pub fn timespecs(atim: u64, mtim: u64, flags: u32) -> Result<[libc::timespec; 2], u32> {
        if flags & !0xf != 0 || (flags & 3 == 3) || (flags & 12 == 12) {
            return Err(errno::INVAL);
        }
        let one = |set: bool, now: bool, ns: u64| libc::timespec {
            tv_sec: if set { (ns / 1_000_000_000) as i64 } else { 0 },
            tv_nsec: if now {
                libc::UTIME_NOW
            } else if set {
                (ns % 1_000_000_000) as i64
            } else {
                libc::UTIME_OMIT
            },
        };
        Ok([one(flags & 1 != 0, flags & 2 != 0, atim), one(flags & 4 != 0, flags & 8 != 0, mtim)])
    }

    pub fn set_times(dir: i32, path: &[u8], follow: bool, times: &[libc::timespec; 2]) -> Result<(), u32> {
        if follow {
            // Resolved beneath the directory, then set through the fd (O_PATH fds take futimens
            // through /proc only, so open it for reading or as a directory).
            let fd = open_beneath(dir, path, libc::O_RDONLY | libc::O_CLOEXEC, 0)
                .or_else(|_| open_beneath(dir, path, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0))?;
            let fd = Owned(fd);
            // SAFETY: futimens reads two live timespecs.
            return check(unsafe { libc::futimens(fd.0, times.as_ptr()) });
        }
        let (parent, name, _) = parent(dir, path)?;
        // SAFETY: utimensat on a directory fd we hold, one component, not followed.
        check(unsafe { libc::utimensat(parent.0, name.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
    }

    /// A hard link: both names beneath their directories; a followed source symlink is resolved
    /// beneath its directory first (the kernel then links the file it resolved to).
    pub fn link(from: i32, old: &[u8], follow: bool, to: i32, new: &[u8]) -> Result<(), u32> {
        let (new_parent, new_name, new_slash) = parent(to, new)?;
        if new_slash {
            return Err(errno::NOENT);
        }
        if old.last() == Some(&b'/') {
            // Hard links to directories do not exist; "file/" is not a directory.
            return Err(errno::NOTDIR);
        }
        if follow {
            let fd = Owned(open_beneath(from, old, libc::O_PATH | libc::O_CLOEXEC, 0)?);
            let proc = cstring(format!("/proc/self/fd/{}", fd.0).as_bytes())?;
            // SAFETY: linkat of the file our O_PATH fd names, into a directory fd we hold.
            return check(unsafe {
                libc::linkat(libc::AT_FDCWD, proc.as_ptr(), new_parent.0, new_name.as_ptr(), libc::AT_SYMLINK_FOLLOW)
            });
        }
        let (old_parent, old_name, _) = parent(from, old)?;
        // SAFETY: linkat on directory fds we hold and one-component names, not followed.
        check(unsafe { libc::linkat(old_parent.0, old_name.as_ptr(), new_parent.0, new_name.as_ptr(), 0) })
    }

    pub fn check(result: i32) -> Result<(), u32> {
        if result < 0 {
            Err(host_errno())
        } else {
            Ok(())
        }
    }

    fn filestat(st: &libc::stat) -> [u8; 64] {
        let mut out = [0u8; 64];
        let filetype = match st.st_mode & libc::S_IFMT {
            libc::S_IFBLK => 1u8,
            libc::S_IFCHR => 2,
            libc::S_IFDIR => 3,
            libc::S_IFREG => 4,
            libc::S_IFSOCK => 6,
            libc::S_IFLNK => 7,
            _ => 0,
        };
        let ns = |s: i64, n: i64| (s as u64).wrapping_mul(1_000_000_000).wrapping_add(n as u64);
        out[0..8].copy_from_slice(&(st.st_dev as u64).to_le_bytes());
        out[8..16].copy_from_slice(&(st.st_ino as u64).to_le_bytes());
        out[16] = filetype;
        out[24..32].copy_from_slice(&(st.st_nlink as u64).to_le_bytes());
        out[32..40].copy_from_slice(&(st.st_size as u64).to_le_bytes());
        out[40..48].copy_from_slice(&ns(st.st_atime, st.st_atime_nsec).to_le_bytes());
        out[48..56].copy_from_slice(&ns(st.st_mtime, st.st_mtime_nsec).to_le_bytes());
        out[56..64].copy_from_slice(&ns(st.st_ctime, st.st_ctime_nsec).to_le_bytes());
        out
    }

    pub fn fstat(fd: i32) -> Result<[u8; 64], u32> {
        // SAFETY: fstat writes into a live, zeroed stat struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        check(unsafe { libc::fstat(fd, &mut st) })?;
        Ok(filestat(&st))
    }

    pub fn stat(dir: i32, path: &[u8], follow: bool) -> Result<[u8; 64], u32> {
        let name_is_dot = {
            let trimmed: Vec<u8> = path.iter().rev().skip_while(|&&b| b == b'/').copied().collect();
            trimmed.is_empty() || trimmed.starts_with(b".") && (trimmed.len() == 1 || trimmed[1] == b'/')
                || trimmed.starts_with(b"..") && (trimmed.len() == 2 || trimmed[2] == b'/')
        };
        if follow || name_is_dot {
            let fd = Owned(open_beneath(dir, path, libc::O_PATH | libc::O_CLOEXEC, 0)?);
            return fstat(fd.0);
        }
        let (parent, name, _) = parent(dir, path)?;
        // SAFETY: fstatat writes into a live, zeroed stat struct; the name is one component.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        check(unsafe { libc::fstatat(parent.0, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
        Ok(filestat(&st))
    }

    /// path_create_directory, path_unlink_file and path_remove_directory.
    pub fn path_op(dir: i32, path: &[u8], op: &str) -> Result<(), u32> {
        let (parent, name, slash) = parent(dir, path)?;
        match op {
            // SAFETY: mkdirat on a directory fd we hold and a one-component name.
            "path_create_directory" => check(unsafe { libc::mkdirat(parent.0, name.as_ptr(), 0o777) }),
            // SAFETY: unlinkat on a directory fd we hold and a one-component name.
            "path_remove_directory" => check(unsafe { libc::unlinkat(parent.0, name.as_ptr(), libc::AT_REMOVEDIR) }),
            _ => {
                if slash {
                    // "file/" names a directory: a file there is ENOTDIR.
                    // SAFETY: fstatat writes into a live, zeroed stat struct (all-zero is a
                    // valid stat); the name is one component, not followed.
                    let mut st: libc::stat = unsafe { std::mem::zeroed() };
                    // SAFETY: as above.
                    check(unsafe { libc::fstatat(parent.0, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
                    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                        return Err(errno::NOTDIR);
                    }
                }
                // SAFETY: unlinkat on a directory fd we hold and a one-component name.
                check(unsafe { libc::unlinkat(parent.0, name.as_ptr(), 0) })
            }
        }
    }

    pub fn rename(from: i32, old: &[u8], to: i32, new: &[u8]) -> Result<(), u32> {
        let (old_parent, old_name, _) = parent(from, old)?;
        let (new_parent, new_name, _) = parent(to, new)?;
        // SAFETY: renameat on directory fds we hold and one-component names.
        check(unsafe { libc::renameat(old_parent.0, old_name.as_ptr(), new_parent.0, new_name.as_ptr()) })
    }

    pub fn symlink(target: &[u8], dir: i32, path: &[u8]) -> Result<(), u32> {
        // An absolute target could never be followed beneath a preopen: refused, as Wasmtime does.
        if target.first() == Some(&b'/') {
            return Err(errno::NOTCAPABLE);
        }
        let (parent, name, slash) = parent(dir, path)?;
        if slash {
            return Err(errno::NOENT);
        }
        let target = cstring(target)?;
        // SAFETY: symlinkat on a directory fd we hold, NUL-terminated strings. The link's text
        // is not resolved here; every later resolution stays beneath a preopen.
        check(unsafe { libc::symlinkat(target.as_ptr(), parent.0, name.as_ptr()) })
    }

    pub fn readlink(dir: i32, path: &[u8]) -> Result<Vec<u8>, u32> {
        let (parent, name, _) = parent(dir, path)?;
        let mut buf = vec![0u8; 4096];
        // SAFETY: readlinkat writes at most buf.len() bytes into buf.
        let n = unsafe { libc::readlinkat(parent.0, name.as_ptr(), buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
        if n < 0 {
            return Err(host_errno());
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    /// The directory's entries from `cookie` on, serialized as WASI dirents (24-byte header and
    /// name each), cut at `max` bytes.
    pub fn readdir(dir: i32, cookie: u64, max: usize) -> Result<Vec<u8>, u32> {
        let fd = open_beneath(dir, b".", libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?;
        // SAFETY: fdopendir takes ownership of fd (closed by closedir below).
        let stream = unsafe { libc::fdopendir(fd) };
        if stream.is_null() {
            let e = host_errno();
            // SAFETY: fdopendir failed, the fd is still ours.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        let mut entries: Vec<(u64, u8, Vec<u8>)> = Vec::new();
        loop {
            // SAFETY: a stream from fdopendir; the entry is read before the next readdir.
            let entry = unsafe { libc::readdir(stream) };
            if entry.is_null() {
                break;
            }
            // SAFETY: readdir returned a valid dirent whose d_name is NUL-terminated.
            let (ino, d_type, name) = unsafe {
                let e = &*entry;
                (e.d_ino, e.d_type, std::ffi::CStr::from_ptr(e.d_name.as_ptr()).to_bytes().to_vec())
            };
            let filetype = match d_type {
                libc::DT_BLK => 1,
                libc::DT_CHR => 2,
                libc::DT_DIR => 3,
                libc::DT_REG => 4,
                libc::DT_SOCK => 6,
                libc::DT_LNK => 7,
                _ => 0,
            };
            entries.push((ino, filetype, name));
        }
        // SAFETY: the stream from fdopendir, closed once.
        unsafe { libc::closedir(stream) };
        let mut out = Vec::new();
        for (i, (ino, filetype, name)) in entries.iter().enumerate().skip(cookie.min(usize::MAX as u64) as usize) {
            let mut header = [0u8; 24];
            header[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            header[8..16].copy_from_slice(&ino.to_le_bytes());
            header[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
            header[20] = *filetype;
            out.extend_from_slice(&header);
            out.extend_from_slice(name);
            if out.len() >= max {
                out.truncate(max);
                break;
            }
        }
        Ok(out)
    }
}

fn host_filetype(host: i32) -> u8 {
    // SAFETY: fstat writes into a live, zeroed stat struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstat(host, &mut st) } != 0 {
        return filetype::UNKNOWN;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

fn sizes_get(list: &[Vec<u8>], mem: &mut Mem, count_ptr: u32, size_ptr: u32) -> Result<(), u32> {
    let size: usize = list.iter().map(|s| s.len() + 1).sum();
    mem.write_u32(count_ptr, list.len() as u32)?;
    mem.write_u32(size_ptr, u32::try_from(size).map_err(|_| errno::INVAL)?)
}

fn strings_get(list: &[Vec<u8>], mem: &mut Mem, ptrs: u32, buf: u32) -> Result<(), u32> {
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        mem.write_u32(ptrs.checked_add(4 * i as u32).ok_or(errno::FAULT)?, at)?;
        mem.write_bytes(at, s)?;
        at = at.checked_add(s.len() as u32).ok_or(errno::FAULT)?;
        mem.write_bytes(at, &[0])?;
        at = at.checked_add(1).ok_or(errno::FAULT)?;
    }
    Ok(())
}
