package inmemory

import "slices"

// sortedIndex maps keys to uint32 values (slots) in key order: entries E
// that hold both (idEntry, timeEntry), in sorted blocks of at most
// sortedBlock entries, and the first entry of each block:
// a two-level B-tree with wide leaves. With keys and values free of
// pointers the whole index is a handful of pointer-free arrays the garbage
// collector never scans, and a key after every key (the common case for
// UUIDv7s, and for timestamps of records written as they happen) is an
// append to the last block, without a search.
type sortedIndex[E sortEntry[E]] struct {
	firsts []E // firsts[i] is the first entry of blocks[i]
	blocks [][]E
	n      int
	// fresh is room for new blocks, carved from a spare of spareBlocks
	// blocks (nil: blocks are made one by one).
	fresh []E
	spare *spare[E]
}

// sortEntry is the entry type of a sortedIndex: cmp orders entries by
// their keys as cmp.Compare does, val is the value. The value lives in the
// entry's own struct, so it fills the key's padding (a struct of the key
// and a value would pad both).
type sortEntry[E any] interface {
	cmp(E) int
	val() uint32
}

// sortedBlock bounds the entries of a block: a search is a binary search
// of the block firsts and then of one block, an insertion in the middle
// moves at most a block's entries.
const sortedBlock = 256

func (x *sortedIndex[E]) len() int { return x.n }

// newBlock returns an empty block with room for sortedBlock entries.
func (x *sortedIndex[E]) newBlock() []E {
	if len(x.fresh) < sortedBlock {
		x.fresh = x.spare.take()
	}
	if len(x.fresh) < sortedBlock {
		return make([]E, 0, sortedBlock)
	}
	b := x.fresh[:0:sortedBlock]
	x.fresh = x.fresh[sortedBlock:]
	return b
}

// block returns the index of the block that holds k's key or would: the
// last block whose first key is at or before it, or 0.
func (x *sortedIndex[E]) block(k E) int {
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

// find returns where k's key is or would be in block b, and whether it is
// there.
func find[E sortEntry[E]](b []E, k E) (int, bool) {
	lo, hi := 0, len(b)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b[m].cmp(k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(b) && b[lo].cmp(k) == 0
}

// get returns the value filed under k's key (k's value is not read).
func (x *sortedIndex[E]) get(k E) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	b := x.blocks[x.block(k)]
	if i, ok := find(b, k); ok {
		return b[i].val(), true
	}
	return 0, false
}

// insert adds e and reports true, or reports false and the value e's key
// already has, changing nothing.
func (x *sortedIndex[E]) insert(e E) (uint32, bool) {
	nb := len(x.blocks)
	if nb == 0 {
		x.blocks = append(x.blocks, append(make([]E, 0, 8), e))
		x.firsts = append(x.firsts, e)
		x.n++
		return 0, true
	}
	if last := x.blocks[nb-1]; last[len(last)-1].cmp(e) < 0 { // after every key
		if len(last) < sortedBlock {
			x.blocks[nb-1] = append(last, e)
		} else {
			x.blocks = append(x.blocks, append(x.newBlock(), e))
			x.firsts = append(x.firsts, e)
		}
		x.n++
		return 0, true
	}
	bi := x.block(e)
	b := x.blocks[bi]
	i, found := find(b, e)
	if found {
		return b[i].val(), false
	}
	if len(b) == sortedBlock { // split in halves
		right := append(x.newBlock(), b[sortedBlock/2:]...)
		b = b[:sortedBlock/2]
		x.blocks[bi] = b
		x.blocks = slices.Insert(x.blocks, bi+1, right)
		x.firsts = slices.Insert(x.firsts, bi+1, right[0])
		if i > len(b) {
			bi, b, i = bi+1, right, i-len(b)
		}
	}
	x.blocks[bi] = slices.Insert(b, i, e)
	if i == 0 {
		x.firsts[bi] = e
	}
	x.n++
	return 0, true
}

// delete removes the entry with k's key and reports whether there was one.
// A block that drops below a quarter full merges with a neighbour that has
// room, so a thinned index does not keep a block per few entries.
func (x *sortedIndex[E]) delete(k E) bool {
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
		x.firsts[bi] = b[0]
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

func (x *sortedIndex[E]) dropBlock(bi int) {
	x.blocks = slices.Delete(x.blocks, bi, bi+1)
	x.firsts = slices.Delete(x.firsts, bi, bi+1)
}

// ascend calls f on the entries in key order until f returns false. f must
// not change the index.
func (x *sortedIndex[E]) ascend(f func(e E) bool) {
	for _, b := range x.blocks {
		for _, e := range b {
			if !f(e) {
				return
			}
		}
	}
}
