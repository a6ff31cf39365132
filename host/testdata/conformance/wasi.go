package main

import "unsafe"

// WASI errno values.
const (
	esuccess, ebadf, enotdir, efault, einval, enoent, enosys, enotsup = 0, 8, 20, 21, 28, 44, 52, 58
)

func iovOf(s string) [2]uint32 {
	return [2]uint32{uint32(uintptr(unsafe.Pointer(unsafe.StringData(s)))), uint32(len(s))}
}

// wasiChecks calls all 45 WASI functions and checks Envoy's answers.
func wasiChecks(now uint64) {
	msg := "conformance writes to stdout\n"
	iov := iovOf(msg)
	var n uint32
	check("fd_write", fdWrite(1, ptr(&iov), 1, &n) == esuccess && n == uint32(len(msg)), "stdout write wrote %d", n)
	check("fd_write", fdWrite(7, ptr(&iov), 1, &n) == ebadf, "fd 7 is not BADF")
	bad := [2]uint32{0xfffffff0, 64}
	check("fd_write", fdWrite(2, ptr(&bad), 1, &n) == efault, "an iovec outside memory is not EFAULT")
	var buf [64]byte
	riov := [2]uint32{uint32(uintptr(unsafe.Pointer(&buf[0]))), 64}
	check("fd_read", fdRead(0, ptr(&riov), 1, &n) == enosys, "fd_read is not ENOSYS")
	var off uint64
	check("fd_seek", fdSeek(1, 0, 0, &off) == esuccess, "fd_seek is not 0")
	check("fd_close", fdClose(3) == esuccess, "fd_close is not 0")
	var st [24]byte
	check("fd_fdstat_get", fdFdstatGet(1, ptr(&st)) == esuccess && st[8] == 64, "stdout fdstat: rights %v", st[8:16])
	check("fd_fdstat_get", fdFdstatGet(0, ptr(&st)) == ebadf, "stdin fdstat is not BADF")
	check("fd_fdstat_set_flags", fdFdstatSetFlags(1, 0) == enosys, "fd_fdstat_set_flags is not ENOSYS")
	check("fd_fdstat_set_rights", fdFdstatSetRights(1, 0, 0) == ebadf, "fd_fdstat_set_rights is not BADF")

	var count, size uint32
	check("environ_sizes_get", environSizesGet(&count, &size) == esuccess && count == 1 && size == uint32(len("CONFORMANCE_ENV=yes")+1),
		"environ sizes %d %d", count, size)
	ptrs := make([]uint32, count+1)
	env := make([]byte, size+1)
	r := environGet(ptr(&ptrs[0]), ptr(&env[0]))
	check("environ_get", r == esuccess && string(env[:size]) == "CONFORMANCE_ENV=yes\x00" &&
		ptrs[0] == uint32(uintptr(unsafe.Pointer(&env[0]))), "environ_get gave %q", env)
	count, size = 9, 9
	check("args_sizes_get", argsSizesGet(&count, &size) == esuccess && count == 0 && size == 0, "args sizes %d %d", count, size)
	check("args_get", argsGet(ptr(&ptrs[0]), ptr(&env[0])) == esuccess, "args_get failed")

	var t uint64
	check("clock_time_get", clockTimeGet(0, 0, &t) == esuccess && t == now, "realtime %d, want %d", t, now)
	check("clock_time_get", clockTimeGet(1, 0, &t) == esuccess && t != 0, "monotonic failed")
	check("clock_time_get", clockTimeGet(5, 0, &t) == enotsup, "clock 5 is not NOTSUP")
	check("clock_res_get", clockResGet(0, &t) == esuccess && t == 1, "resolution %d", t)
	check("clock_res_get", clockResGet(7, &t) == enotsup, "clock 7 resolution is not NOTSUP")

	check("fd_advise", fdAdvise(3, 0, 0, 0) == ebadf, "fd_advise")
	check("fd_allocate", fdAllocate(3, 0, 0) == ebadf, "fd_allocate")
	check("fd_datasync", fdDatasync(3) == ebadf, "fd_datasync")
	check("fd_filestat_set_size", fdFilestatSetSize(3, 0) == ebadf, "fd_filestat_set_size")
	check("fd_filestat_set_times", fdFilestatSetTimes(3, 0, 0, 0) == ebadf, "fd_filestat_set_times")
	check("fd_pread", fdPread(3, ptr(&riov), 1, 0, &n) == enosys, "fd_pread")
	check("fd_pwrite", fdPwrite(3, ptr(&iov), 1, 0, &n) == ebadf, "fd_pwrite")
	check("fd_readdir", fdReaddir(3, ptr(&buf[0]), 64, 0, &n) == enotdir, "fd_readdir")
	check("fd_renumber", fdRenumber(3, 4) == ebadf, "fd_renumber")
	check("fd_sync", fdSync(3) == ebadf, "fd_sync")
	check("fd_tell", fdTell(3, &off) == ebadf, "fd_tell")
	path := "x"
	pp, pn := strPtr(path), uint32(len(path))
	check("path_create_directory", pathCreateDirectory(3, pp, pn) == enotsup, "path_create_directory")
	check("path_filestat_set_times", pathFilestatSetTimes(3, 0, pp, pn, 0, 0, 0) == enotsup, "path_filestat_set_times")
	check("path_link", pathLink(3, pp, pn, 3, pp, pn) == enotsup, "path_link")
	check("path_readlink", pathReadlink(3, pp, pn, ptr(&buf[0]), 64, &n) == enotsup, "path_readlink")
	check("path_remove_directory", pathRemoveDirectory(3, pp, pn) == enotsup, "path_remove_directory")
	check("path_rename", pathRename(3, pp, pn, 3, pp, pn) == enotsup, "path_rename")
	check("path_symlink", pathSymlink(pp, pn, 3, pp) == enotsup, "path_symlink")
	check("path_unlink_file", pathUnlinkFile(3, pp, pn) == enotsup, "path_unlink_file")
	var fd, flags uint32
	check("sock_accept", sockAccept(3, 0, &fd) == enotsup, "sock_accept")
	check("sock_recv", sockRecv(3, ptr(&riov), 1, 0, &n, &flags) == enotsup, "sock_recv")
	check("sock_send", sockSend(3, ptr(&iov), 1, 0, &n) == enotsup, "sock_send")
	check("sock_shutdown", sockShutdown(3, 0) == enotsup, "sock_shutdown")

	rnd := make([]byte, 32)
	nonZero := false
	r = randomGet(ptr(&rnd[0]), 32)
	for _, b := range rnd {
		nonZero = nonZero || b != 0
	}
	check("random_get", r == esuccess && nonZero, "random_get gave %v", rnd)
	big := make([]byte, 64<<10+1)
	check("random_get", randomGet(ptr(&big[0]), uint32(len(big))) == einval, "more than 64 KiB is not INVAL")
	check("sched_yield", schedYield() == esuccess, "sched_yield")
	var sub [48]byte
	var ev [32]byte
	events := uint32(9)
	check("poll_oneoff", pollOneoff(ptr(&sub), ptr(&ev), 1, &events) == esuccess && events == 0, "poll_oneoff events %d", events)
	procExit(0) // Envoy logs and returns
	check("proc_exit", true, "")
	check("path_open", pathOpen(3, 0, pp, pn, 0, 0, 0, 0, &fd) == enoent, "path_open")
	check("fd_prestat_get", fdPrestatGet(3, ptr(&buf[0])) == ebadf, "fd_prestat_get")
	check("fd_prestat_dir_name", fdPrestatDirName(3, ptr(&buf[0]), 8) == enosys, "fd_prestat_dir_name")
	check("path_filestat_get", pathFilestatGet(3, 0, pp, pn, ptr(&buf[0])) == enotsup, "path_filestat_get")
	check("fd_filestat_get", fdFilestatGet(3, ptr(&buf[0])) == ebadf, "fd_filestat_get")
}
