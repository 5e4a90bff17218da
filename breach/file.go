package breach

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// The filter file: a 64-byte header, then ArrayLength fingerprints of 4 bytes, little-endian.
//
//	offset  size  field
//	0       8     magic "GHBREACH"
//	8       4     version (1)
//	12      4     fingerprint bits (32)
//	16      8     count: distinct SHA-1 hashes in the filter
//	24      8     seed
//	32      4     segment length (a power of two)
//	36      4     segment count × segment length
//	40      4     array length: the number of fingerprints
//	44      4     CRC-32C of the fingerprints
//	48      12    zero
//	60      4     CRC-32C of bytes 0 to 59
//
// Every integer is little-endian. Open refuses a file whose magic, version, sizes or checksums
// do not match, so a truncated, corrupt or foreign file stops the server at start.
const (
	fileMagic       = "GHBREACH"
	FileVersion     = 1
	headerSize      = 64
	fingerprintBits = 32
)

// FalsePositiveRate is the probability that a password in no breach is reported as breached:
// 2^-32, one in about 4.3 billion.
const FalsePositiveRate = 1.0 / (1 << fingerprintBits)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrBadFile is wrapped by every error about a filter file's contents.
var ErrBadFile = errors.New("not a valid breached-password filter file")

// Filter is an opened filter file; safe for concurrent use.
type Filter struct {
	params fuseParams
	count  uint64
	fps    []byte // the fingerprints, memory-mapped where the system allows
	unmap  func() error
}

// Count is the number of distinct hashes the filter was built from.
func (f *Filter) Count() uint64 { return f.count }

// Size is the file's size in bytes.
func (f *Filter) Size() int64 { return headerSize + int64(len(f.fps)) }

// Close releases the mapping; the filter must not be used afterwards.
func (f *Filter) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap, f.fps = nil, nil
	return err
}

// keyOf is the filter key of a SHA-1 hash: its first 8 bytes.
func keyOf(sum [sha1.Size]byte) uint64 { return binary.BigEndian.Uint64(sum[:8]) }

// ContainsHash reports whether the SHA-1 hash is (probably) in the filter.
func (f *Filter) ContainsHash(sum [sha1.Size]byte) bool {
	p := &f.params
	hash := mixsplit(keyOf(sum), p.Seed)
	i0, i1, i2 := p.positions(hash)
	fps := f.fps
	v := binary.LittleEndian.Uint32(fps[4*uint64(i0):]) ^ binary.LittleEndian.Uint32(fps[4*uint64(i1):]) ^
		binary.LittleEndian.Uint32(fps[4*uint64(i2):])
	return fingerprint(hash)^v == 0
}

// Breached implements gatehouse.BreachChecker: the password's SHA-1 is looked up in the filter.
func (f *Filter) Breached(_ context.Context, password string) (bool, error) {
	return f.ContainsHash(sha1.Sum([]byte(password))), nil
}

// WriteFilter builds a filter of the hashes (each a SHA-1 key, see keyOf; keys is reordered)
// and writes it to path atomically: a file beside it, renamed over path once complete.
func WriteFilter(path string, keys []uint64) (count uint64, err error) {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	count = uint64(len(keys))
	p, fps, err := buildFuse(keys)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	crc := crc32.New(castagnoli)
	body := io.MultiWriter(w, crc)
	// The header comes first but needs the data's checksum: reserve it, write the data, go back.
	if _, err = w.Write(make([]byte, headerSize)); err != nil {
		return 0, err
	}
	buf := make([]byte, 4)
	for _, v := range fps {
		binary.LittleEndian.PutUint32(buf, v)
		if _, err = body.Write(buf); err != nil {
			return 0, err
		}
	}
	if err = w.Flush(); err != nil {
		return 0, err
	}
	h := encodeHeader(p, count, crc.Sum32())
	if _, err = tmp.WriteAt(h, 0); err != nil {
		return 0, err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return 0, err
	}
	if err = tmp.Sync(); err != nil {
		return 0, err
	}
	if err = tmp.Close(); err != nil {
		return 0, err
	}
	return count, os.Rename(tmp.Name(), path)
}

func encodeHeader(p fuseParams, count uint64, dataCRC uint32) []byte {
	h := make([]byte, headerSize)
	copy(h, fileMagic)
	le := binary.LittleEndian
	le.PutUint32(h[8:], FileVersion)
	le.PutUint32(h[12:], fingerprintBits)
	le.PutUint64(h[16:], count)
	le.PutUint64(h[24:], p.Seed)
	le.PutUint32(h[32:], p.SegmentLength)
	le.PutUint32(h[36:], p.SegmentCountLength)
	le.PutUint32(h[40:], p.ArrayLength)
	le.PutUint32(h[44:], dataCRC)
	le.PutUint32(h[60:], crc32.Checksum(h[:60], castagnoli))
	return h
}

type header struct {
	params  fuseParams
	count   uint64
	dataCRC uint32
}

func decodeHeader(h []byte, fileSize int64) (header, error) {
	bad := func(format string, args ...any) (header, error) {
		return header{}, fmt.Errorf("%w: %s", ErrBadFile, fmt.Sprintf(format, args...))
	}
	if len(h) < headerSize {
		return bad("%d bytes, shorter than the %d-byte header", fileSize, headerSize)
	}
	if string(h[:8]) != fileMagic {
		return bad("wrong magic number")
	}
	le := binary.LittleEndian
	if v := le.Uint32(h[8:]); v != FileVersion {
		return bad("format version %d, this server reads version %d (rebuild it with gatehouse breach import)", v, FileVersion)
	}
	if crc32.Checksum(h[:60], castagnoli) != le.Uint32(h[60:]) {
		return bad("header checksum mismatch")
	}
	if b := le.Uint32(h[12:]); b != fingerprintBits {
		return bad("%d-bit fingerprints, want %d", b, fingerprintBits)
	}
	hd := header{
		params: fuseParams{
			Seed:               le.Uint64(h[24:]),
			SegmentLength:      le.Uint32(h[32:]),
			SegmentCountLength: le.Uint32(h[36:]),
			ArrayLength:        le.Uint32(h[40:]),
		},
		count:   le.Uint64(h[16:]),
		dataCRC: le.Uint32(h[44:]),
	}
	if !hd.params.valid() {
		return bad("inconsistent filter dimensions")
	}
	if want := headerSize + 4*int64(hd.params.ArrayLength); fileSize != want {
		return bad("%d bytes, want %d (truncated or padded)", fileSize, want)
	}
	return hd, nil
}

// Open maps a filter file and checks it: header, size and the fingerprints' checksum.
func Open(path string) (*Filter, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrBadFile)
	}
	// The header is checked before anything is mapped: a foreign or truncated file is refused
	// without touching the rest of it.
	h := make([]byte, headerSize)
	n, _ := io.ReadFull(file, h)
	if _, err := decodeHeader(h[:n], info.Size()); err != nil {
		return nil, err
	}
	data, unmap, err := mapFile(file, info.Size())
	if err != nil {
		return nil, err
	}
	f, err := parse(data)
	if err != nil {
		unmap()
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}

// parse checks a whole filter file held in data and returns a Filter reading from it.
func parse(data []byte) (*Filter, error) {
	hd, err := decodeHeader(data[:min(len(data), headerSize)], int64(len(data)))
	if err != nil {
		return nil, err
	}
	f := &Filter{params: hd.params, count: hd.count, fps: data[headerSize:]}
	if crc32.Checksum(f.fps, castagnoli) != hd.dataCRC {
		return nil, fmt.Errorf("%w: fingerprint checksum mismatch (corrupt file)", ErrBadFile)
	}
	return f, nil
}

func crc32Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
