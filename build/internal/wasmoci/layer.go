package wasmoci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"time"
)

// compatLayer returns the tar+gzip layer of FormatCompat and the digest
// input of its uncompressed tar (the diff ID). Every byte is a function of
// the module and mtime: one regular file named plugin.wasm, mode 0644, owner
// 0:0 with no user or group names, USTAR format; gzip with no name, no
// modification time and a fixed compression level.
func compatLayer(module []byte, mtime time.Time) (tarball, gz []byte, err error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     ModuleFileName,
		Mode:     0o644,
		Size:     int64(len(module)),
		ModTime:  mtime,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, nil, fmt.Errorf("wasmoci: writing the tar header of %s: %w", ModuleFileName, err)
	}
	if _, err := tw.Write(module); err != nil {
		return nil, nil, fmt.Errorf("wasmoci: writing %s into the tar: %w", ModuleFileName, err)
	}
	if err := tw.Close(); err != nil {
		return nil, nil, fmt.Errorf("wasmoci: closing the tar: %w", err)
	}

	var zb bytes.Buffer
	zw, err := gzip.NewWriterLevel(&zb, gzip.BestCompression)
	if err != nil {
		return nil, nil, fmt.Errorf("wasmoci: creating the gzip writer: %w", err)
	}
	// The zero gzip.Header writes no name and MTIME 0, so the output depends
	// on the input and the compression level only.
	if _, err := zw.Write(tb.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("wasmoci: compressing the layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Errorf("wasmoci: closing the gzip stream: %w", err)
	}
	return tb.Bytes(), zb.Bytes(), nil
}
