package webrtc

import (
	"fmt"
	"net"
	"time"
)

// Defaults for Config.
const (
	DefaultConnectTimeout    = 30 * time.Second
	DefaultGatherTimeout     = 10 * time.Second
	DefaultDisconnectTimeout = 5 * time.Second
	DefaultFailTimeout       = 15 * time.Second
	DefaultQueueLimit        = 120 * time.Second
	DefaultOffersPerIP       = 10
	DefaultOffersPerBusiness = 60
	DefaultMaxOfferBytes     = 64 << 10
	inboundQueue             = 50 // one second of 20 ms frames
	pipelineRate             = 16000
	pipelineFrame            = pipelineRate / 50
	opusClock                = 48000 // Opus's RTP clock, whatever the audio's rate
	pcmuRate                 = 8000
	maxPacketBytes           = 1500
	defaultOpusBitrate       = 32000
	// defaultOpusComplexity is libopus's default. Below 6, speech that
	// follows a long silence comes out damaged enough that the embedded
	// recogniser loses words (measured: "what are your hours on saturday"
	// heard as "i juan saturday" at 5, right at 6 to 10); 8 to 10 cost the
	// same, about 120 µs a 20 ms frame here.
	defaultOpusComplexity  = 10
	maxLostFramesConcealed = 50
)

// ICEServer is a STUN or TURN server offered to ICE.
type ICEServer struct {
	// URLs like "stun:stun.example.com:3478" or "turn:turn.example.com?transport=udp".
	URLs []string `json:"urls" yaml:"urls"`
	// Username and Credential authenticate to a TURN server.
	Username   string `json:"username,omitempty" yaml:"username"`
	Credential string `json:"credential,omitempty" yaml:"credential"`
}

// Config is the WebRTC section of the server configuration. The zero value
// works: host candidates on every non-loopback address, any UDP port, and
// the defaults above.
type Config struct {
	// ICEServers are STUN and TURN servers for the server's own gathering
	// and for the softphone page. Default none: host candidates only, which
	// is enough for a server with a public address.
	ICEServers []ICEServer `yaml:"ice_servers"`
	// PublicIPs are the public addresses of a 1:1 NAT in front of this node
	// (a cloud VM's elastic IP); they replace the private address in host
	// candidates. Default none.
	PublicIPs []string `yaml:"public_ips"`
	// UDPPortMin and UDPPortMax bound the UDP ports ICE listens on, for a
	// firewall. Each call holds one port per local address it gathers on,
	// so the range caps concurrent calls. Default 0, 0: any ephemeral port.
	UDPPortMin uint16 `yaml:"udp_port_min"`
	UDPPortMax uint16 `yaml:"udp_port_max"`
	// IPs restricts host candidates to these local addresses; a loopback
	// address among them enables loopback candidates (tests, a single-host
	// setup). Default none: every address but loopback.
	IPs []string `yaml:"ips"`
	// ConnectTimeout ends a session whose peer has not connected by then.
	// Default 30s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// GatherTimeout bounds ICE gathering before the answer. Default 10s.
	GatherTimeout time.Duration `yaml:"gather_timeout"`
	// DisconnectTimeout and FailTimeout are ICE's: a peer silent for
	// DisconnectTimeout is disconnected, for FailTimeout gone (the call
	// ends). Defaults 5s and 15s.
	DisconnectTimeout time.Duration `yaml:"disconnect_timeout"`
	FailTimeout       time.Duration `yaml:"fail_timeout"`
	// QueueLimit caps the agent audio waiting to be sent; more is dropped.
	// Default 120s.
	QueueLimit time.Duration `yaml:"queue_limit"`
	// OffersPerIP and OffersPerBusiness are how many offers a minute one
	// client address and one business may make (token buckets with that
	// burst). Defaults 10 and 60; negative disables the limit.
	OffersPerIP       int `yaml:"offers_per_ip"`
	OffersPerBusiness int `yaml:"offers_per_business"`
	// MaxOfferBytes caps an offer's body. Default 64 KiB.
	MaxOfferBytes int64 `yaml:"max_offer_bytes"`
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.GatherTimeout <= 0 {
		c.GatherTimeout = DefaultGatherTimeout
	}
	if c.DisconnectTimeout <= 0 {
		c.DisconnectTimeout = DefaultDisconnectTimeout
	}
	if c.FailTimeout <= 0 {
		c.FailTimeout = DefaultFailTimeout
	}
	if c.QueueLimit <= 0 {
		c.QueueLimit = DefaultQueueLimit
	}
	if c.OffersPerIP == 0 {
		c.OffersPerIP = DefaultOffersPerIP
	}
	if c.OffersPerBusiness == 0 {
		c.OffersPerBusiness = DefaultOffersPerBusiness
	}
	if c.MaxOfferBytes <= 0 {
		c.MaxOfferBytes = DefaultMaxOfferBytes
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	for _, ip := range c.PublicIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("webrtc: public_ips: %q is not an IP address", ip)
		}
	}
	for _, ip := range c.IPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("webrtc: ips: %q is not an IP address", ip)
		}
	}
	if (c.UDPPortMin == 0) != (c.UDPPortMax == 0) || c.UDPPortMin > c.UDPPortMax {
		return fmt.Errorf("webrtc: udp port range %d-%d: set both, min <= max", c.UDPPortMin, c.UDPPortMax)
	}
	for _, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("webrtc: ice_servers: a server without urls")
		}
	}
	return nil
}
