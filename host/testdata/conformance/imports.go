package main

import "unsafe"

// Every host function of Envoy's ABI v0.2.1 import list, with the exact
// signature the host links. Pointers are guest addresses.

type ptr = unsafe.Pointer

//go:wasmimport env pthread_equal
func pthreadEqual(a, b uint32) uint32

//go:wasmimport env emscripten_notify_memory_growth
func notifyMemoryGrowth(idx uint32)

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg ptr, n uint32) uint32

//go:wasmimport env proxy_get_status
func getStatus(code *uint32, msg ptr, n *uint32) uint32

//go:wasmimport env proxy_set_property
func setProperty(path ptr, pn uint32, val ptr, vn uint32) uint32

//go:wasmimport env proxy_get_property
func getProperty(path ptr, pn uint32, val ptr, vn *uint32) uint32

//go:wasmimport env proxy_send_local_response
func sendLocalResponse(status uint32, d ptr, dn uint32, b ptr, bn uint32, h ptr, hn uint32, grpc int32) uint32

//go:wasmimport env proxy_get_shared_data
func getSharedData(k ptr, kn uint32, v ptr, vn *uint32, cas *uint32) uint32

//go:wasmimport env proxy_set_shared_data
func setSharedData(k ptr, kn uint32, v ptr, vn uint32, cas uint32) uint32

//go:wasmimport env proxy_register_shared_queue
func registerSharedQueue(n ptr, nn uint32, tok *uint32) uint32

//go:wasmimport env proxy_resolve_shared_queue
func resolveSharedQueue(vm ptr, vmn uint32, n ptr, nn uint32, tok *uint32) uint32

//go:wasmimport env proxy_dequeue_shared_queue
func dequeueSharedQueue(tok uint32, v ptr, vn *uint32) uint32

//go:wasmimport env proxy_enqueue_shared_queue
func enqueueSharedQueue(tok uint32, v ptr, vn uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func getHeaderMapValue(t uint32, k ptr, kn uint32, v ptr, vn *uint32) uint32

//go:wasmimport env proxy_add_header_map_value
func addHeaderMapValue(t uint32, k ptr, kn uint32, v ptr, vn uint32) uint32

//go:wasmimport env proxy_replace_header_map_value
func replaceHeaderMapValue(t uint32, k ptr, kn uint32, v ptr, vn uint32) uint32

//go:wasmimport env proxy_remove_header_map_value
func removeHeaderMapValue(t uint32, k ptr, kn uint32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func getHeaderMapPairs(t uint32, v ptr, vn *uint32) uint32

//go:wasmimport env proxy_set_header_map_pairs
func setHeaderMapPairs(t uint32, v ptr, vn uint32) uint32

//go:wasmimport env proxy_get_header_map_size
func getHeaderMapSize(t uint32, size *uint32) uint32

//go:wasmimport env proxy_get_buffer_status
func getBufferStatus(t uint32, size *uint32, flags *uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func getBufferBytes(t, start, n uint32, v ptr, vn *uint32) uint32

//go:wasmimport env proxy_set_buffer_bytes
func setBufferBytes(t, start, n uint32, v ptr, vn uint32) uint32

//go:wasmimport env proxy_http_call
func httpCall(up ptr, upn uint32, h ptr, hn uint32, b ptr, bn uint32, tr ptr, trn uint32, timeout uint32, tok *uint32) uint32

//go:wasmimport env proxy_grpc_call
func grpcCall(svc ptr, svcn uint32, sn ptr, snn uint32, m ptr, mn uint32, md ptr, mdn uint32, req ptr, reqn uint32, timeout uint32, tok *uint32) uint32

//go:wasmimport env proxy_grpc_stream
func grpcStream(svc ptr, svcn uint32, sn ptr, snn uint32, m ptr, mn uint32, md ptr, mdn uint32, tok *uint32) uint32

//go:wasmimport env proxy_grpc_close
func grpcClose(tok uint32) uint32

//go:wasmimport env proxy_grpc_cancel
func grpcCancel(tok uint32) uint32

//go:wasmimport env proxy_grpc_send
func grpcSend(tok uint32, m ptr, mn uint32, end uint32) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func setTickPeriod(ms uint32) uint32

//go:wasmimport env proxy_get_current_time_nanoseconds
func currentTimeNanos(t *uint64) uint32

//go:wasmimport env proxy_define_metric
func defineMetric(t uint32, n ptr, nn uint32, id *uint32) uint32

//go:wasmimport env proxy_increment_metric
func incrementMetric(id uint32, d int64) uint32

//go:wasmimport env proxy_record_metric
func recordMetric(id uint32, v int64) uint32

//go:wasmimport env proxy_get_metric
func getMetric(id uint32, v *uint64) uint32

//go:wasmimport env proxy_set_effective_context
func setEffectiveContext(id uint32) uint32

//go:wasmimport env proxy_done
func proxyDone() uint32

//go:wasmimport env proxy_call_foreign_function
func callForeign(n ptr, nn uint32, a ptr, an uint32, r ptr, rn *uint32) uint32

//go:wasmimport env proxy_continue_stream
func continueStream(t uint32) uint32

//go:wasmimport env proxy_close_stream
func closeStream(t uint32) uint32

//go:wasmimport env proxy_get_log_level
func getLogLevel(l *uint32) uint32

//go:wasmimport env envoy_resolve_dns
func resolveDNS(n ptr, nn uint32, tok *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_write
func fdWrite(fd uint32, iovs ptr, n uint32, written *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_read
func fdRead(fd uint32, iovs ptr, n uint32, read *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_seek
func fdSeek(fd uint32, off int64, whence uint32, out *uint64) uint32

//go:wasmimport wasi_snapshot_preview1 fd_close
func fdClose(fd uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_fdstat_get
func fdFdstatGet(fd uint32, out ptr) uint32

//go:wasmimport wasi_snapshot_preview1 fd_fdstat_set_flags
func fdFdstatSetFlags(fd uint32, flags uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_fdstat_set_rights
func fdFdstatSetRights(fd uint32, base, inheriting uint64) uint32

//go:wasmimport wasi_snapshot_preview1 environ_get
func environGet(ptrs ptr, buf ptr) uint32

//go:wasmimport wasi_snapshot_preview1 environ_sizes_get
func environSizesGet(n *uint32, size *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 args_get
func argsGet(ptrs ptr, buf ptr) uint32

//go:wasmimport wasi_snapshot_preview1 args_sizes_get
func argsSizesGet(n *uint32, size *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 clock_time_get
func clockTimeGet(id uint32, precision uint64, t *uint64) uint32

//go:wasmimport wasi_snapshot_preview1 clock_res_get
func clockResGet(id uint32, r *uint64) uint32

//go:wasmimport wasi_snapshot_preview1 fd_advise
func fdAdvise(fd uint32, off, n uint64, advice uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_allocate
func fdAllocate(fd uint32, off, n uint64) uint32

//go:wasmimport wasi_snapshot_preview1 fd_datasync
func fdDatasync(fd uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_filestat_set_size
func fdFilestatSetSize(fd uint32, size uint64) uint32

//go:wasmimport wasi_snapshot_preview1 fd_filestat_set_times
func fdFilestatSetTimes(fd uint32, atim, mtim uint64, flags uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_pread
func fdPread(fd uint32, iovs ptr, n uint32, off uint64, read *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_pwrite
func fdPwrite(fd uint32, iovs ptr, n uint32, off uint64, written *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_readdir
func fdReaddir(fd uint32, buf ptr, n uint32, cookie uint64, used *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_renumber
func fdRenumber(from, to uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_sync
func fdSync(fd uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_tell
func fdTell(fd uint32, off *uint64) uint32

//go:wasmimport wasi_snapshot_preview1 path_create_directory
func pathCreateDirectory(fd uint32, p ptr, n uint32) uint32

//go:wasmimport wasi_snapshot_preview1 path_filestat_set_times
func pathFilestatSetTimes(fd, flags uint32, p ptr, n uint32, atim, mtim uint64, fst uint32) uint32

// path_link and path_symlink use Envoy's signatures (6 and 4 parameters),
// which differ from WASI preview1's; the host must link exactly these.

//go:wasmimport wasi_snapshot_preview1 path_link
func pathLink(oldFd uint32, oldPath ptr, oldN uint32, newFd uint32, newPath ptr, newN uint32) uint32

//go:wasmimport wasi_snapshot_preview1 path_readlink
func pathReadlink(fd uint32, p ptr, n uint32, buf ptr, bufN uint32, used *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 path_remove_directory
func pathRemoveDirectory(fd uint32, p ptr, n uint32) uint32

//go:wasmimport wasi_snapshot_preview1 path_rename
func pathRename(fd uint32, p ptr, n uint32, newFd uint32, np ptr, nn uint32) uint32

//go:wasmimport wasi_snapshot_preview1 path_symlink
func pathSymlink(old ptr, oldN uint32, fd uint32, np ptr) uint32

//go:wasmimport wasi_snapshot_preview1 path_unlink_file
func pathUnlinkFile(fd uint32, p ptr, n uint32) uint32

//go:wasmimport wasi_snapshot_preview1 sock_accept
func sockAccept(fd, flags uint32, out *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 sock_recv
func sockRecv(fd uint32, iovs ptr, n uint32, flags uint32, read *uint32, oflags *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 sock_send
func sockSend(fd uint32, iovs ptr, n uint32, flags uint32, written *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 sock_shutdown
func sockShutdown(fd, how uint32) uint32

//go:wasmimport wasi_snapshot_preview1 random_get
func randomGet(buf ptr, n uint32) uint32

//go:wasmimport wasi_snapshot_preview1 sched_yield
func schedYield() uint32

//go:wasmimport wasi_snapshot_preview1 poll_oneoff
func pollOneoff(in ptr, out ptr, n uint32, events *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 proc_exit
func procExit(code uint32)

//go:wasmimport wasi_snapshot_preview1 path_open
func pathOpen(fd, dirflags uint32, p ptr, n uint32, oflags uint32, base, inheriting uint64, fdflags uint32, out *uint32) uint32

//go:wasmimport wasi_snapshot_preview1 fd_prestat_get
func fdPrestatGet(fd uint32, out ptr) uint32

//go:wasmimport wasi_snapshot_preview1 fd_prestat_dir_name
func fdPrestatDirName(fd uint32, p ptr, n uint32) uint32

//go:wasmimport wasi_snapshot_preview1 path_filestat_get
func pathFilestatGet(fd, flags uint32, p ptr, n uint32, out ptr) uint32

//go:wasmimport wasi_snapshot_preview1 fd_filestat_get
func fdFilestatGet(fd uint32, out ptr) uint32
