package bolt

import (
	_ "embed"
	"fmt"

	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/s2"

	"github.com/ordergate/ordergate/host"
)

// How an order record is stored. Records are the bulk of the file and
// every list, facts query and update decodes them, so they are JSON
// compressed with S2 behind a one-byte format tag. The compressor is
// primed with recordDict, a record with every field name, the enumerated
// values (statuses, hold reasons, event types) and empty placeholders for
// the rest, so even the first field of a record compresses: a 3-line
// order's record of about 2 KB takes well under 1 KB, at a few
// microseconds to encode or decode, against tens for the JSON itself.
// Files written before the tag existed hold plain JSON, which starts
// with '{' and is read as it is.
//
// recorddict.json must never change: records written with it can only be
// read with it. A different dictionary needs a new format tag (and this
// one kept for reading); TestRecordDictFrozen guards it.
//
// The JSON is that of encoding/json (the same field names and layout), by
// github.com/goccy/go-json, which decodes a record about four times
// faster; TestRecordCodec checks that both read a record the same.
const (
	formatJSON   = '{'
	formatS2JSON = 1 // S2 with recordDict
)

//go:embed recorddict.json
var recordDictSource []byte

var recordDict = s2.MakeDictManual(recordDictSource, 0)

// marshalRecord encodes a record for the orders bucket.
func marshalRecord(r *host.Record) ([]byte, error) {
	js, err := gojson.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding order %s: %w", r.ID, err)
	}
	buf := make([]byte, 1+s2.MaxEncodedLen(len(js)))
	buf[0] = formatS2JSON
	n := len(recordDict.Encode(buf[1:], js))
	return buf[: 1+n : 1+n], nil
}

// unmarshalRecord decodes a value of the orders bucket. data may be
// memory of a read transaction: the record does not keep it.
func unmarshalRecord(id string, data []byte) (*host.Record, error) {
	var js []byte
	switch {
	case len(data) > 0 && data[0] == formatJSON:
		js = data
	case len(data) > 0 && data[0] == formatS2JSON:
		var err error
		if js, err = recordDict.Decode(nil, data[1:]); err != nil {
			return nil, fmt.Errorf("decompressing order %s: %w", id, err)
		}
	default:
		return nil, fmt.Errorf("decoding order %s: unknown record format", id)
	}
	var r host.Record
	if err := gojson.Unmarshal(js, &r); err != nil {
		return nil, fmt.Errorf("decoding order %s: %w", id, err)
	}
	return &r, nil
}
