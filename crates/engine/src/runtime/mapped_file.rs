//! A file mapped read-only into memory: how the persistent code cache reads its entries (tens
//! of MB each). Reading one into a fresh buffer costs a page fault per 4 KB of it on top of
//! the copy; a private read-only mapping of the page cache's pages, populated in one system
//! call, costs neither.
//!
//! The mapping shows the file as it is on disk. Writers of the code cache never change an
//! entry in place (they rename a new file over it, and eviction unlinks it; the mapping keeps
//! the old file), so its bytes stay as they were when mapped. A file truncated in place by
//! someone else while mapped would fault (SIGBUS) on the pages past its new end: the cache
//! directory must be trusted for that as for the code it holds.

use std::fs::File;
use std::os::fd::AsRawFd;

/// A read-only private mapping of a whole file, unmapped on drop.
pub struct MappedFile {
    ptr: *mut libc::c_void,
    len: usize,
    /// Kept open: the code image in it may be mapped again, executable
    /// (`code_memory::publish_mapped`).
    file: File,
}

// SAFETY: the mapping is read-only and owned by this value alone; reading it from any thread
// is as sound as reading a `&[u8]`.
unsafe impl Send for MappedFile {}
// SAFETY: as above: shared access is read-only.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Maps the file at `path` (all of it, populated at once).
    pub fn open(path: &std::path::Path) -> std::io::Result<MappedFile> {
        MappedFile::map(path, true)
    }

    /// [`MappedFile::open`] without populating the mapping: its pages are mapped as they are
    /// first read (a caller that reads a part of it on a thread that must not wait for the rest).
    pub fn open_lazily(path: &std::path::Path) -> std::io::Result<MappedFile> {
        MappedFile::map(path, false)
    }

    fn map(path: &std::path::Path, populate: bool) -> std::io::Result<MappedFile> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file too large to map"))?;
        if len == 0 {
            return Ok(MappedFile { ptr: std::ptr::null_mut(), len: 0, file });
        }
        // SAFETY: a new private read-only mapping of a file we opened, at an address the
        // kernel chooses; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                if populate { libc::MAP_PRIVATE | libc::MAP_POPULATE } else { libc::MAP_PRIVATE },
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(MappedFile { ptr, len, file })
    }

    /// The file mapped.
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl std::ops::Deref for MappedFile {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives (unmapped only
        // in Drop); nothing writes to a private read-only mapping (see the module's doc about
        // files truncated by others).
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: the mapping made in `open`, unmapped once; no slice of it outlives `self`.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}
