package inmemory

import "slices"

// sortedIndex maps keys to uint32 values (slots) in key order, in sorted
// blocks of at most sortedBlock entries and the first key of each block:
// a two-level B-tree with wide leaves. With keys and values free of
// pointers the whole index is a handful of pointer-free arrays the garbage
// collector never scans, and a key after every key (the common case for
// UUIDv7s, and for timestamps of records written as they happen) is an
// append to the last block, without a search.
type sortedIndex[K sortKey[K]] struct {
	firsts []K // firsts[i] is the first key of blocks[i]
	blocks [][]sortedEntry[K]
	n      int
	// fresh is room for new blocks, carved from a spare of spareBlocks
	// blocks (nil: blocks are made one by one).
	fresh []sortedEntry[K]
	spare *spare[sortedEntry[K]]
}

// sortKey is a key type of a sortedIndex: cmp orders keys as
// cmp.Compare does.
type sortKey[K any] interface {
	comparable
	cmp(K) int
}

type sortedEntry[K any] struct {
	k K
	v uint32
}

// sortedBlock bounds the entries of a block: a search is a binary search
// of the block firsts and then of one block, an insertion in the middle
// moves at most a block's entries.
const sortedBlock = 256

func (x *sortedIndex[K]) len() int { return x.n }

// newBlock returns an empty block with room for sortedBlock entries.
func (x *sortedIndex[K]) newBlock() []sortedEntry[K] {
	if len(x.fresh) < sortedBlock {
		x.fresh = x.spare.take()
	}
	if len(x.fresh) < sortedBlock {
		return make([]sortedEntry[K], 0, sortedBlock)
	}
	b := x.fresh[:0:sortedBlock]
	x.fresh = x.fresh[sortedBlock:]
	return b
}

// block returns the index of the block that holds k or would: the last
// block whose first key is at or before k, or 0.
func (x *sortedIndex[K]) block(k K) int {
	lo, hi := 0, len(x.firsts)
	if hi > 1 && x.firsts[hi-1].cmp(k) <= 0 { // the newest keys: no search
		return hi - 1
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x.firsts[m].cmp(k) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return max(lo-1, 0)
}

// find returns where k is or would be in block b, and whether it is there.
func find[K sortKey[K]](b []sortedEntry[K], k K) (int, bool) {
	lo, hi := 0, len(b)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b[m].k.cmp(k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(b) && b[lo].k == k
}

// get returns the value of k.
func (x *sortedIndex[K]) get(k K) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	b := x.blocks[x.block(k)]
	if i, ok := find(b, k); ok {
		return b[i].v, true
	}
	return 0, false
}

// insert adds k with value v and reports true, or reports false and the
// value k already has, changing nothing.
func (x *sortedIndex[K]) insert(k K, v uint32) (uint32, bool) {
	nb := len(x.blocks)
	if nb == 0 {
		x.blocks = append(x.blocks, append(make([]sortedEntry[K], 0, 8), sortedEntry[K]{k, v}))
		x.firsts = append(x.firsts, k)
		x.n++
		return 0, true
	}
	if last := x.blocks[nb-1]; last[len(last)-1].k.cmp(k) < 0 { // after every key
		if len(last) < sortedBlock {
			x.blocks[nb-1] = append(last, sortedEntry[K]{k, v})
		} else {
			x.blocks = append(x.blocks, append(x.newBlock(), sortedEntry[K]{k, v}))
			x.firsts = append(x.firsts, k)
		}
		x.n++
		return 0, true
	}
	bi := x.block(k)
	b := x.blocks[bi]
	i, found := find(b, k)
	if found {
		return b[i].v, false
	}
	if len(b) == sortedBlock { // split in halves
		right := append(x.newBlock(), b[sortedBlock/2:]...)
		b = b[:sortedBlock/2]
		x.blocks[bi] = b
		x.blocks = slices.Insert(x.blocks, bi+1, right)
		x.firsts = slices.Insert(x.firsts, bi+1, right[0].k)
		if i > len(b) {
			bi, b, i = bi+1, right, i-len(b)
		}
	}
	x.blocks[bi] = slices.Insert(b, i, sortedEntry[K]{k, v})
	if i == 0 {
		x.firsts[bi] = k
	}
	x.n++
	return 0, true
}

// delete removes k and reports whether it was there. A block that drops
// below a quarter full merges with a neighbour that has room, so a thinned
// index does not keep a block per few entries.
func (x *sortedIndex[K]) delete(k K) bool {
	if x.n == 0 {
		return false
	}
	bi := x.block(k)
	b := x.blocks[bi]
	i, ok := find(b, k)
	if !ok {
		return false
	}
	x.n--
	b = slices.Delete(b, i, i+1)
	x.blocks[bi] = b
	switch {
	case len(b) == 0:
		x.dropBlock(bi)
		return true
	case i == 0:
		x.firsts[bi] = b[0].k
	}
	if len(b) < sortedBlock/4 {
		if bi+1 < len(x.blocks) && len(b)+len(x.blocks[bi+1]) <= sortedBlock/2 {
			x.blocks[bi] = append(b, x.blocks[bi+1]...)
			x.dropBlock(bi + 1)
		} else if bi > 0 && len(b)+len(x.blocks[bi-1]) <= sortedBlock/2 {
			x.blocks[bi-1] = append(x.blocks[bi-1], b...)
			x.dropBlock(bi)
		}
	}
	return true
}

func (x *sortedIndex[K]) dropBlock(bi int) {
	x.blocks = slices.Delete(x.blocks, bi, bi+1)
	x.firsts = slices.Delete(x.firsts, bi, bi+1)
}

// ascend calls f on the entries in key order until f returns false. f must
// not change the index.
func (x *sortedIndex[K]) ascend(f func(k K, v uint32) bool) {
	for _, b := range x.blocks {
		for _, e := range b {
			if !f(e.k, e.v) {
				return
			}
		}
	}
}
