//! WASI preview 1 (`wasi_snapshot_preview1`, and `wasi_unstable`): the functions a WASI program
//! imports, as host functions that wasm calls directly (through their exit trampolines, never
//! through JS). A [`Wasi`] holds the program's state: its arguments, environment, file
//! descriptor table and the linear memory it was bound to (node:wasi's `start`/`initialize`
//! binds the instance's exported `memory`). Every pointer and length the program passes is
//! checked against the memory's current length before any byte is read or written ([`Mem`]).
//!
//! This first slice serves args, environ, clocks, random, proc_exit, stdio (read, write,
//! fdstat, seek, close), sched_yield and poll_oneoff (clock and stdio subscriptions). It has no
//! filesystem yet: preopens are refused by the binding, `fd_prestat_get` answers EBADF (so a
//! program sees no directories), and the path_* functions answer ENOSYS/NOTCAPABLE. The program
//! has no ambient authority: it reaches only the three stdio host fds it was given.

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

/// An open WASI file descriptor.
#[derive(Clone, Copy, Debug)]
enum Fd {
    /// One of the host fds given as stdin/stdout/stderr.
    Stdio { host: i32 },
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
        let fds = stdio.iter().map(|&host| Some(Fd::Stdio { host })).collect();
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
        Err(Exit(code)) => {
            state.exit = Some(code);
            1
        }
    }
}

/// proc_exit was called with this code.
pub struct Exit(pub u32);

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
        _ => errno::IO,
    }
}

/// Waits until `fd` is ready for `events` (after EAGAIN on a non-blocking host fd).
fn wait_ready(fd: i32, events: i16) {
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd, for the duration of the call.
    unsafe { libc::poll(&mut pfd, 1, -1) };
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
        self.fds.get(fd as usize).copied().flatten().ok_or(errno::BADF)
    }

    /// Runs WASI function `index` with `args`; the errno it returns, or proc_exit's code.
    fn call(&mut self, index: usize, a: &[u64], mem: &mut Mem, has_memory: bool) -> Result<u32, Exit> {
        let name = FUNCTIONS[index].0;
        let result = match name {
            "proc_exit" => return Err(Exit(a32(a, 0))),
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
            "fd_close" => self.fd(a32(a, 0)).map(|_| self.fds[a32(a, 0) as usize] = None),
            "fd_fdstat_get" => (|| {
                let Fd::Stdio { host } = self.fd(a32(a, 0))?;
                let mut stat = [0u8; 24];
                stat[0] = host_filetype(host);
                // fs_flags: O_APPEND → APPEND (1), O_NONBLOCK → NONBLOCK (4).
                // SAFETY: F_GETFL on an fd has no memory effects.
                let fl = unsafe { libc::fcntl(host, libc::F_GETFL) };
                let mut flags = 0u16;
                if fl >= 0 && fl & libc::O_APPEND != 0 {
                    flags |= 1;
                }
                stat[2..4].copy_from_slice(&flags.to_le_bytes());
                stat[8..16].copy_from_slice(&rights::STDIO.to_le_bytes());
                stat[16..24].copy_from_slice(&0u64.to_le_bytes());
                mem.write_bytes(a32(a, 1), &stat)
            })(),
            "fd_prestat_get" | "fd_prestat_dir_name" => self.fd(a32(a, 0)).and(Err(errno::BADF)),
            "fd_seek" => (|| {
                let Fd::Stdio { host } = self.fd(a32(a, 0))?;
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
                let Fd::Stdio { host } = self.fd(a32(a, 0))?;
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
            "fd_sync" | "fd_datasync" | "fd_advise" | "fd_allocate" | "fd_fdstat_set_flags"
            | "fd_fdstat_set_rights" | "fd_filestat_get" | "fd_filestat_set_size" | "fd_filestat_set_times"
            | "fd_pread" | "fd_pwrite" | "fd_readdir" | "fd_renumber" => self.fd(a32(a, 0)).and(Err(errno::NOSYS)),
            "sock_accept" | "sock_recv" | "sock_send" | "sock_shutdown" => self.fd(a32(a, 0)).and(Err(errno::NOTSOCK)),
            "poll_oneoff" => self.poll_oneoff(mem, a32(a, 0), a32(a, 1), a32(a, 2), a32(a, 3)),
            // The path functions name a directory fd: there are none to name yet.
            _ if name.starts_with("path_") => {
                let dir = if name == "path_symlink" { a32(a, 2) } else { a32(a, 0) };
                self.fd(dir).and(Err(errno::NOTDIR))
            }
            _ => Err(errno::NOSYS),
        };
        Ok(match result {
            Ok(()) => errno::SUCCESS,
            Err(e) => e,
        })
    }

    fn fd_write(&mut self, mem: &mut Mem, fd: u32, iovs: u32, count: u32, nwritten: u32) -> Result<(), u32> {
        let Fd::Stdio { host } = self.fd(fd)?;
        let iovecs = mem.iovecs(iovs, count)?;
        // Every pointer is checked before anything is written to the host.
        mem.slice(nwritten, 4)?;
        let mut total: u32 = 0;
        'outer: for (ptr, len) in iovecs {
            let mut buf = mem.slice(ptr, len)?;
            while !buf.is_empty() {
                // SAFETY: reads at most buf.len() bytes from buf.
                let n = unsafe { libc::write(host, buf.as_ptr() as *const c_void, buf.len()) };
                if n < 0 {
                    let e = host_errno();
                    if e == errno::AGAIN {
                        wait_ready(host, libc::POLLOUT);
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
        let Fd::Stdio { host } = self.fd(fd)?;
        let iovecs = mem.iovecs(iovs, count)?;
        // Every pointer is checked before anything is read from the host.
        mem.slice(nread, 4)?;
        let mut total: u32 = 0;
        for (ptr, len) in iovecs {
            if len == 0 {
                continue;
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
                    errno::AGAIN if total == 0 => wait_ready(host, libc::POLLIN),
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

    /// Clock subscriptions sleep (blocking the thread, as node:wasi does) until the earliest
    /// one expires; fd subscriptions on stdio report ready at once.
    fn poll_oneoff(&mut self, mem: &mut Mem, input: u32, out: u32, nsubs: u32, nevents: u32) -> Result<(), u32> {
        if nsubs == 0 {
            return Err(errno::INVAL);
        }
        let subs = mem.slice(input, nsubs.checked_mul(48).ok_or(errno::FAULT)?)?.to_vec();
        mem.slice(out, nsubs.checked_mul(32).ok_or(errno::FAULT)?)?;
        mem.slice(nevents, 4)?;
        let mut events: Vec<[u8; 32]> = Vec::new();
        let mut earliest: Option<(u64, Vec<u64>)> = None;
        for sub in subs.chunks_exact(48) {
            let userdata = u64::from_le_bytes(sub[0..8].try_into().unwrap());
            let tag = sub[8];
            let mut event = [0u8; 32];
            event[0..8].copy_from_slice(&userdata.to_le_bytes());
            event[10] = tag;
            match tag {
                0 => {
                    let id = u32::from_le_bytes(sub[16..20].try_into().unwrap());
                    let timeout = u64::from_le_bytes(sub[24..32].try_into().unwrap());
                    let flags = u16::from_le_bytes(sub[40..42].try_into().unwrap());
                    let Some(clock) = clock_id(id) else {
                        event[8..10].copy_from_slice(&(errno::INVAL as u16).to_le_bytes());
                        events.push(event);
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
                    let error = match self.fd(fd) {
                        Ok(_) => 0u16,
                        Err(e) => e as u16,
                    };
                    event[8..10].copy_from_slice(&error.to_le_bytes());
                    events.push(event);
                }
                _ => return Err(errno::INVAL),
            }
        }
        if events.is_empty() {
            if let Some((wait, list)) = earliest {
                std::thread::sleep(std::time::Duration::from_nanos(wait));
                for (sub, userdata) in subs.chunks_exact(48).map(|s| (s, u64::from_le_bytes(s[0..8].try_into().unwrap()))) {
                    if sub[8] == 0 && list.contains(&userdata) {
                        let mut event = [0u8; 32];
                        event[0..8].copy_from_slice(&userdata.to_le_bytes());
                        events.push(event);
                    }
                }
            }
        }
        for (i, event) in events.iter().enumerate() {
            mem.write_bytes(out + 32 * i as u32, event)?;
        }
        mem.write_u32(nevents, events.len() as u32)
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
