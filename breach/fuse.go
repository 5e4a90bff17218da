package breach

import (
	"errors"
	"math"
	"math/bits"
	"slices"
)

// This file is a binary fuse filter with three hash functions and 32-bit fingerprints (Graf and
// Lemire, "Binary Fuse Filters: Fast and Smaller Than Xor Filters", JEA 2022), after the reference
// implementation in github.com/FastFilter/xorfilter. A key that was added is always found; any
// other key is found with probability 2^-32 (about 2.3e-10), and the filter takes about 4.5 bytes
// per key (1.125 fingerprints of 4 bytes at a million keys and more).

// fuseParams are the shape of a filter: everything a lookup needs besides the fingerprints.
type fuseParams struct {
	Seed               uint64
	SegmentLength      uint32 // a power of two
	SegmentCountLength uint32 // SegmentCount * SegmentLength
	ArrayLength        uint32 // (SegmentCount + 2) * SegmentLength fingerprints
}

const arity = 3

// maxBuildAttempts bounds the seeds tried; each attempt fails with a probability well under
// one in ten, so reaching it means a bug, not bad luck.
const maxBuildAttempts = 100

func murmur64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func splitmix64(seed *uint64) uint64 {
	*seed += 0x9e3779b97f4a7c15
	z := *seed
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func mixsplit(key, seed uint64) uint64 { return murmur64(key + seed) }

func fingerprint(hash uint64) uint32 { return uint32(hash ^ (hash >> 32)) }

// positions are the three fingerprint slots of a hash: one in each of three consecutive segments.
func (p *fuseParams) positions(hash uint64) (uint32, uint32, uint32) {
	hi, _ := bits.Mul64(hash, uint64(p.SegmentCountLength))
	h0 := uint32(hi)
	h1 := h0 + p.SegmentLength
	h2 := h1 + p.SegmentLength
	mask := p.SegmentLength - 1
	h1 ^= uint32(hash>>18) & mask
	h2 ^= uint32(hash) & mask
	return h0, h1, h2
}

// shapeFor computes the segment length and array size for size keys.
func shapeFor(size uint32) fuseParams {
	var segLen uint32
	if size == 0 {
		segLen = 4
	} else {
		segLen = uint32(1) << int(math.Floor(math.Log(float64(size))/math.Log(3.33)+2.25))
	}
	if segLen > 262144 {
		segLen = 262144
	}
	sizeFactor := 2.0
	if size > 1 {
		sizeFactor = math.Max(1.125, 0.875+0.25*math.Log(1000000)/math.Log(float64(size)))
	}
	capacity := uint32(0)
	if size > 1 {
		capacity = uint32(math.Round(float64(size) * sizeFactor))
	}
	initSegmentCount := (capacity+segLen-1)/segLen - (arity - 1)
	arrayLength := (initSegmentCount + arity - 1) * segLen
	segCount := (arrayLength + segLen - 1) / segLen
	if segCount <= arity-1 {
		segCount = 1
	} else {
		segCount -= arity - 1
	}
	return fuseParams{
		SegmentLength:      segLen,
		SegmentCountLength: segCount * segLen,
		ArrayLength:        (segCount + arity - 1) * segLen,
	}
}

// valid reports whether p describes a filter lookups can index safely.
func (p *fuseParams) valid() bool {
	if p.SegmentLength == 0 || p.SegmentLength&(p.SegmentLength-1) != 0 || p.SegmentLength > 262144 {
		return false
	}
	if p.SegmentCountLength == 0 || p.SegmentCountLength%p.SegmentLength != 0 {
		return false
	}
	segCount := uint64(p.SegmentCountLength / p.SegmentLength)
	return uint64(p.ArrayLength) == (segCount+arity-1)*uint64(p.SegmentLength)
}

func mod3(x uint8) uint8 {
	if x > 2 {
		return x - 3
	}
	return x
}

// buildFuse makes a filter of keys. Duplicates are allowed (they are removed first); keys is
// sorted in place.
func buildFuse(keys []uint64) (fuseParams, []uint32, error) {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if uint64(len(keys)) > math.MaxUint32/2 {
		return fuseParams{}, nil, errors.New("too many keys for one filter")
	}
	size := uint32(len(keys))
	p := shapeFor(size)
	fps := make([]uint32, p.ArrayLength)
	if size == 0 {
		return p, fps, nil
	}
	capacity := p.ArrayLength
	alone := make([]uint32, capacity)
	// t2count holds, per slot, 4 × the number of keys there plus (in the low two bits) the XOR
	// of which of its three positions each key has there; t2hash the XOR of their hashes. A slot
	// with one key thus names that key and its position.
	t2count := make([]uint8, capacity)
	t2hash := make([]uint64, capacity)
	reverseH := make([]uint8, size)
	reverseOrder := make([]uint64, size)
	rng := uint64(1)
	var h012 [5]uint32
	for attempt := 0; ; attempt++ {
		if attempt == maxBuildAttempts {
			return fuseParams{}, nil, errors.New("binary fuse filter: construction did not converge")
		}
		p.Seed = splitmix64(&rng)
		clear(t2count)
		clear(t2hash)
		overflow := false
		for _, key := range keys {
			hash := mixsplit(key, p.Seed)
			i0, i1, i2 := p.positions(hash)
			t2count[i0] += 4
			t2hash[i0] ^= hash
			t2count[i1] += 4
			t2count[i1] ^= 1
			t2hash[i1] ^= hash
			t2count[i2] += 4
			t2count[i2] ^= 2
			t2hash[i2] ^= hash
			// More than 63 keys in one slot wrap the counter around: try another seed.
			if t2count[i0] < 4 || t2count[i1] < 4 || t2count[i2] < 4 {
				overflow = true
			}
		}
		if overflow {
			continue
		}
		// Peel: take a slot holding one key, remove that key from its other two slots, repeat.
		qsize := 0
		for i := uint32(0); i < capacity; i++ {
			alone[qsize] = i
			if t2count[i]>>2 == 1 {
				qsize++
			}
		}
		stack := uint32(0)
		for qsize > 0 {
			qsize--
			index := alone[qsize]
			if t2count[index]>>2 != 1 {
				continue
			}
			hash := t2hash[index]
			found := t2count[index] & 3
			reverseH[stack] = found
			reverseOrder[stack] = hash
			stack++
			i0, i1, i2 := p.positions(hash)
			h012[1], h012[2], h012[3], h012[4] = i1, i2, i0, i1
			other := h012[found+1]
			alone[qsize] = other
			if t2count[other]>>2 == 2 {
				qsize++
			}
			t2count[other] -= 4
			t2count[other] ^= mod3(found + 1)
			t2hash[other] ^= hash
			other = h012[found+2]
			alone[qsize] = other
			if t2count[other]>>2 == 2 {
				qsize++
			}
			t2count[other] -= 4
			t2count[other] ^= mod3(found + 2)
			t2hash[other] ^= hash
		}
		if stack == size {
			break
		}
	}
	// Assign in reverse peeling order: each key's own slot is set last among its three, so the
	// XOR of its three slots is its fingerprint.
	for i := int(size) - 1; i >= 0; i-- {
		hash := reverseOrder[i]
		i0, i1, i2 := p.positions(hash)
		found := reverseH[i]
		h012[0], h012[1], h012[2], h012[3], h012[4] = i0, i1, i2, i0, i1
		fps[h012[found]] = fingerprint(hash) ^ fps[h012[found+1]] ^ fps[h012[found+2]]
	}
	return p, fps, nil
}
